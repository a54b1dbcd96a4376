"""A transport that puts the active cassette in front of another transport.

Which cassette answers: the innermost ``with jupyter_llm.cassette(...)``, else the one the
session names (``session.cassette`` / ``JUPYTER_LLM_CASSETTE``, or beside the notebook when
only a mode is set), in the session's mode (``session.cassette_mode`` /
``JUPYTER_LLM_CASSETTE_MODE``). With none, requests go straight to the inner transport.
Fallback mode with no cassette to read (a console, a script, a new notebook) is no cassette
at all: there is nothing to replay, and it never records.
"""
from __future__ import annotations

import os
import threading
from contextvars import ContextVar
from pathlib import Path

from .. import errors
from . import cassette, kernel
from .transport import Request, Transport

_opened: dict[tuple, cassette.Cassette] = {}
_opened_lock = threading.Lock()


# A context variable, not a thread's: the rows of a batch are tasks that share one thread.
_answered: ContextVar[str] = ContextVar("jupyter_llm_answered", default="live")


def last_source() -> str:
    """How this thread's (or task's) last request was answered: ``live``, ``replayed`` or ``recorded``."""
    return _answered.get()


class CassetteTransport(Transport):
    """Replays and records through the active cassette; ``inner`` answers everything else."""

    def __init__(self, inner: Transport, session):
        self.inner = inner
        self.session = session

    def handle(self, request: Request):
        tape = active(self.session)
        if tape is None:
            _answered.set("live")
            return self.inner.handle(request)
        answer = tape.answer(request, lambda: self.inner.handle(request))
        _answered.set(cassette.last_decision())
        return answer

    async def handle_async(self, request: Request):
        tape = active(self.session)
        if tape is None:
            _answered.set("live")
            return await self.inner.handle_async(request)
        answer, source = await tape.answer_async(request, lambda: self.inner.handle_async(request))
        _answered.set(source)
        return answer

    def prepare(self, request: Request) -> None:
        tape = active(self.session)
        # A replay never needs the SDK: importing it is most of a replayed cell's time.
        if tape is None or not tape.replaying:
            self.inner.prepare(request)

    def close(self) -> None:
        self.inner.close()


def active(session) -> cassette.Cassette | None:
    """The cassette that answers ``session``'s requests now, or None (they go to the gateway)."""
    tape = cassette.innermost()
    if tape is not None:
        return tape
    path = session.cassette or os.environ.get("JUPYTER_LLM_CASSETTE") or None
    mode = session.cassette_mode or os.environ.get("JUPYTER_LLM_CASSETTE_MODE", "").strip().lower() or None
    mode = mode or ("auto" if path else "off")
    if mode == "off":
        return None
    if mode not in cassette.MODES:
        raise errors.ConfigError(
            f"JUPYTER_LLM_CASSETTE_MODE must be one of {', '.join(cassette.MODES)}, not {mode!r}.")
    if not path:
        notebook = kernel.notebook_path()
        if notebook is None and mode == "fallback":
            return None
        if notebook is None:
            raise errors.ConfigError(
                f"Cassette mode is {mode!r} but no cassette file is set and the notebook's path is not "
                f"known here. Name one: %llm_cassette PATH, jupyter_llm.session.cassette = PATH, or "
                f"JUPYTER_LLM_CASSETTE=PATH."
            )
        path = cassette.default_path(notebook)
    if mode == "fallback" and not Path(path).expanduser().is_file():
        return None
    ident = (str(Path(path).expanduser().absolute()), mode, session.cassette_speed)
    with _opened_lock:
        tape = _opened.get(ident)
        if tape is None:
            tape = _opened[ident] = cassette.Cassette(path, mode, speed=session.cassette_speed)
    return tape
