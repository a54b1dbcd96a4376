"""A loopback emulator of the gateway for tests and demos.

It speaks the same HTTP as the one-api style gateway in front of vLLM / SGLang that
jupyter-llm talks to (see GATEWAY.md): chat with reasoning and tool calls, streamed
or not, embeddings, rerank, score and ``/v1/models``, with each server's wire quirks,
deterministic replies, and faults injected on request. It is a test double, not the
gateway, and never stores or echoes an API key.

>>> from jupyter_llm.emulator import start
>>> with start() as em:                                   # doctest: +SKIP
...     client = openai.OpenAI(base_url=em.url, api_key="sk-test")
...     client.chat.completions.create(model="qwen3-32b", messages=[...])

Behaviour settings (``reasoning=``, ``tools=``, ``fault=``, ``rate=``, ...) can be given
as keyword arguments (every model), in ``models={name: {...}}`` (one model), or per
request in an ``X-Emulator: name=value; name=value`` header.
"""
from __future__ import annotations

from typing import Any

from ._models import ModelTable

__all__ = ["Emulator", "start", "shared"]


class Emulator:
    """A loopback emulator of the gateway for tests and demos, served from a daemon thread.

    ``keys`` maps API keys to their group (``"A"``, ``"B"`` or ``"*"``); None accepts any
    non-empty key. ``defaults`` and keyword settings apply to every model; ``models``
    overrides settings per model (``None`` retires a model, a new name adds one).
    """

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0,
                 keys: dict[str, str] | None = None, defaults: dict[str, Any] | None = None,
                 models: dict[str, dict[str, Any] | None] | None = None, **settings: Any):
        self.host, self.port = host, port
        self._table = ModelTable({**(defaults or {}), **settings}, models)
        self._keys = keys
        self._state: Any = None
        self._server: Any = None
        self._thread: Any = None

    def start(self) -> Emulator:
        """Bind the port and serve in a daemon thread; returns self."""
        if self._server is None:
            from ._server import State, serve  # http.server costs ~50 ms: import when used

            self._state = State(self._table, self._keys)
            self._server, self._thread = serve(self._state, self.host, self.port)
            self.port = self._server.server_address[1]
        return self

    def stop(self) -> None:
        """Stop serving and close open connections (streams in progress end)."""
        if self._server is not None:
            from ._server import shutdown

            shutdown(self._server, self._thread)
            self._server = self._thread = None

    @property
    def url(self) -> str:
        """The ``base_url`` for the openai SDK, e.g. ``http://127.0.0.1:PORT/v1``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/v1"

    @property
    def requests(self) -> list[dict]:
        """Every request received, newest last: path, method, auth form, body, headers.

        The auth form is ``"bearer"``, ``"raw"`` or ``"none"``; keys are never kept.
        """
        if self._state is None:
            return []
        with self._state.lock:
            return list(self._state.log)

    def reset(self) -> None:
        """Clear the request log and the fault counters."""
        if self._state is not None:
            self._state.reset()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self._server is not None else "stopped"
        return f"<jupyter-llm gateway emulator (a test double) {state} at {self.url}>"


def start(port: int = 0, host: str = "127.0.0.1", **options: Any) -> Emulator:
    """Start a loopback emulator of the gateway for tests and demos; returns it running.

    ``options`` are those of :class:`Emulator`. Use ``with start() as em:`` to stop it.
    """
    return Emulator(host=host, port=port, **options).start()


_shared: Emulator | None = None


#: Tokens per second of the emulator that stands in for an unconfigured gateway: paced
#: like a busy real one, so a demo notebook shows the reply streaming in.
SHARED_RATE = 120


def shared() -> Emulator:
    """The process-wide emulator that answers when no gateway is configured (started once)."""
    global _shared
    if _shared is None:
        _shared = start(rate=SHARED_RATE)
    return _shared
