"""Record and replay model traffic, so a notebook re-runs identically without the gateway.

A cassette is a text file (JSON Lines) beside the notebook: ``x.ipynb`` -> ``x.llm.jsonl``.
It sits where the transport talks HTTP: chat chunks (compactly, :mod:`.cassette_format`),
embeddings, rerank and ``/v1/models`` answers are stored under the normalised request
(model, messages, parameters, tools; never headers, keys or URLs). A replay yields the
same chunks through the same display path, instantly or at the recorded pace. Each
exchange is appended under a lock (:mod:`.cassette_file`): nothing anyone recorded is
dropped, and a failure to write is a note, never the loss of the reply.

Modes: ``record`` (call the gateway for everything; what it records answers from then
on), ``replay`` (never call the gateway; an unrecorded request is a
:class:`~jupyter_llm.errors.CassetteMiss`), ``auto`` (replay what is recorded, record what
is not), ``fallback`` (replay what is recorded, send what is not to the gateway and keep
nothing: a shipped notebook whose readers change its prompts), ``off``. A request sent
several times is recorded each time and replayed in the same order; sent more often than
that (a cell re-run), auto, replay and fallback give it its last recorded answer again:
what the notebook shows is what a fresh replay shows.

Example::

    with jupyter_llm.cassette("analysis.llm.jsonl", mode="auto"):
        jupyter_llm.ask("Name three rivers in France.")   # recorded once, replayed after

    jupyter_llm.session.cassette_mode = "replay"          # or JUPYTER_LLM_CASSETTE_MODE=replay
    %llm_cassette analysis.llm.jsonl --mode replay        # the same, in a notebook
"""
from __future__ import annotations

import json
import sys
import threading
import time
import types
from pathlib import Path

from .. import errors
from . import cassette_diff, cassette_format, kernel
from .cassette_file import CassetteFile
from .cassette_replay import error_record, replay, replay_stream_async
from .files import write_atomic
from .notes import note

MODES = ("off", "auto", "record", "replay", "fallback")
SUFFIX = ".llm.jsonl"
#: Keys of a chat body that the transport adds itself; they do not tell two requests apart.
_TRANSPORT_KEYS = ("stream", "stream_options")
class Cassette:
    """One cassette file and the exchanges known in it; a context manager.

    Example::

        tape = jupyter_llm.cassette("notes.llm.jsonl", mode="replay", speed=1.0)
        with tape:
            jupyter_llm.ask("hello")      # streams at the recorded pace
        len(tape)                         # exchanges in the file
    """

    def __init__(self, path, mode: str = "auto", *, speed: float = 0.0):
        if mode not in MODES:
            raise errors.ConfigError(f"cassette mode must be one of {', '.join(MODES)}, not {mode!r}.")
        if speed < 0:
            raise errors.ConfigError(f"cassette speed must be 0 (instant) or more, not {speed!r}.")
        self.path = Path(path).expanduser().absolute()
        self.mode = mode
        self.speed = float(speed)
        self._lock = threading.RLock()
        self._file = CassetteFile(self.path)
        self._records: dict[str, dict[int, dict]] = {}   # key -> occurrence number -> record
        self._used: dict[str, int] = {}
        self._mine: dict[str, int] = {}                  # record mode: what this cassette recorded
        self._announced = False
        self._warned = False
        with self._file.locked():
            self._merge(*self._file.read_new())
        self._live_told: str | None = None

    def __len__(self) -> int:
        return sum(len(v) for v in self._records.values())

    def __repr__(self) -> str:
        return f"Cassette({str(self.path)!r}, mode={self.mode!r}, {len(self)} exchanges)"

    def __enter__(self) -> Cassette:
        with _stack_lock:
            _stack.append(self)
        return self

    def __exit__(self, *exc) -> None:
        with _stack_lock:
            if self in _stack:
                _stack.remove(self)

    def _merge(self, records: list[dict], replaced: bool) -> None:
        if replaced:
            self._records = {}
        for record in records:
            # A later line for the same occurrence is a re-recording of it: it answers from now on.
            self._records.setdefault(_key(record["kind"], record["request"]), {})[record["n"]] = record

    def _recorded(self, key: str) -> list[dict]:
        occurrences = self._records.get(key, {})
        return [occurrences[n] for n in sorted(occurrences)]

    def answer(self, request, live):
        """Answer one transport request: replay it, or run ``live()`` and record what it returns."""
        _decided.source = "replayed"  # also for a miss in replay mode: nothing was sent
        found, key, record, secrets = self._look_up(request)
        if found is not None:
            return replay(request.kind, found, self.speed)
        if self.mode == "fallback":
            _decided.source = "live"
            self._tell_live(request.kind, request.endpoint.stand_in)
            return live()
        _decided.source = "recorded"
        if request.kind == "chat":
            return self._record_stream(key, record, live, secrets)
        try:
            record["response"] = live()
        except errors.LLMError as exc:
            self._store_refusal(key, record, exc, secrets)
            raise
        self._store(key, record, secrets)
        return record["response"]

    async def answer_async(self, request, live) -> tuple:
        """:meth:`answer` from a coroutine, with ``await live()`` live: ``(answer, source)``, the
        source ``"replayed"``, ``"recorded"`` or (fallback mode) ``"live"``. A chat answer is an
        async iterator; a replay keeps its pace without blocking."""
        found, key, record, secrets = self._look_up(request)
        if found is not None:
            if request.kind == "chat":
                return replay_stream_async(found, self.speed), "replayed"
            return replay(request.kind, found, self.speed), "replayed"
        if self.mode == "fallback":
            self._tell_live(request.kind, request.endpoint.stand_in)
            return await live(), "live"
        if request.kind == "chat":
            return self._record_stream_async(key, record, await live(), secrets), "recorded"
        try:
            record["response"] = await live()
        except errors.LLMError as exc:
            self._store_refusal(key, record, exc, secrets)
            raise
        self._store(key, record, secrets)
        return record["response"], "recorded"

    def _look_up(self, request) -> tuple[dict | None, str, dict, list]:
        """The recorded answer to replay (None: record one), the request's key, the record to fill."""
        kind, secrets = request.kind, request.all_secrets()
        body = _scrub(request.body, secrets)
        key = _key(kind, body)
        with self._lock:
            self._announce()
            n = self._used.get(key, 0)
            self._used[key] = n + 1
            recorded = self._recorded(key) if self.mode != "record" else []
            if n < len(recorded):
                return recorded[n], key, {}, secrets
            if recorded:
                # Sent more often than recorded: a cell run again. Its last answer is what the
                # notebook shows, and what a fresh replay of the notebook will show.
                return recorded[-1], key, {}, secrets
            if self.mode == "replay":
                raise self._miss(kind, body)
        return None, key, {"kind": kind, "n": n, "request": body}, secrets

    @property
    def replaying(self) -> bool:
        """True in replay mode: nothing this cassette answers reaches the gateway."""
        return self.mode == "replay"

    def _record_stream(self, key, record, live, secrets):
        timed = []
        start = time.perf_counter()
        try:
            for chunk in live():
                timed.append((time.perf_counter() - start, chunk))
                yield chunk
        except errors.BudgetExceeded:
            raise  # the session's own limit, not the gateway's answer: nothing to replay
        except errors.LLMError as exc:
            self._store_stream(key, record, timed, secrets, exc)
            raise
        # A reply the user interrupted (GeneratorExit, KeyboardInterrupt) is not kept: replaying
        # half an answer would pass it off as what the model said.
        self._store_stream(key, record, timed, secrets)

    async def _record_stream_async(self, key, record, chunks, secrets):
        timed = []
        start = time.perf_counter()
        try:
            async for chunk in chunks:
                timed.append((time.perf_counter() - start, chunk))
                yield chunk
        except errors.BudgetExceeded:
            raise  # the session's own limit, not the gateway's answer: nothing to replay
        except errors.LLMError as exc:
            self._store_stream(key, record, timed, secrets, exc)
            raise
        finally:
            await chunks.aclose()
        self._store_stream(key, record, timed, secrets)  # an interrupted reply is not kept (see above)

    def _store_stream(self, key, record, timed, secrets, error: errors.LLMError | None = None) -> None:
        record |= cassette_format.encode_chunks(timed)
        if error is not None:
            record["error"] = error_record(error)
        self._store(key, record, secrets)

    def _store_refusal(self, key: str, record: dict, exc: errors.LLMError, secrets) -> None:
        """Keep the gateway's refusal as the answer a replay raises again; the session's own
        budget is not the gateway's answer, and nothing of it is kept."""
        if not isinstance(exc, errors.BudgetExceeded):
            record["error"] = error_record(exc)
            self._store(key, record, secrets)

    def _store(self, key: str, record: dict, secrets) -> None:
        """Append ``record``; a failure to write is a warning, never the loss of the reply."""
        record = json.loads(errors.redact(json.dumps(record, ensure_ascii=False), secrets))
        with self._lock:
            if self._file.read_only():
                return self._warn(f"{self.path.name} is read-only, so it was not written: this answer is "
                                  f"shown but not recorded. Make the file writable to record.")
            try:
                with self._file.locked():
                    self._merge(*self._file.read_new())
                    occurrences = self._records.setdefault(key, {})
                    if self.mode == "record":
                        record["n"] = self._mine.get(key, 0)
                        self._mine[key] = record["n"] + 1
                    else:
                        # Numbered by what is on disk: a request another kernel recorded meanwhile keeps its line.
                        record["n"] = max(occurrences, default=-1) + 1
                    self._file.append(line(record))
                    occurrences[record["n"]] = record
            except (OSError, errors.ConfigError) as exc:
                self._warn(f"could not record to {self.path} ({type(exc).__name__}: {exc}). The answer is "
                           f"shown and kept, but not recorded; choose a folder you can write to.")

    def _warn(self, text: str) -> None:
        if not self._warned:
            self._warned = True
            note(text)

    def _announce(self) -> None:
        if self._announced:
            return
        self._announced = True
        # Same words in every mode but the mode itself, so a recorded notebook and its replay
        # differ only where the sanitiser expects it.
        note(f"cassette {self.path.name} ({self.mode} mode)")

    def _tell_live(self, kind: str, stand_in: bool) -> None:
        # Once per cell: a student who edits a second prompt hears it again, a map() once.
        where = cassette_diff.cell()
        if self._live_told == where:
            return
        self._live_told = where
        # With no gateway, the live answer is the emulator's placeholder text: say so, as a
        # notebook without a cassette would (that notice is kept quiet under a cassette).
        to = (" to the built-in emulator, a test double that answers with placeholder text (no gateway "
              "configured: %llm_config base_url=https://…/v1 to use yours)") if stand_in else ""
        note(f"{self.path.name} has no answer for this {kind} request: sent live{to}, not recorded (fallback mode).")

    def _miss(self, kind, request) -> errors.CassetteMiss:
        cell = cassette_diff.cell()
        where = f" in {cell}" if cell else ""
        nearest, differences = cassette_diff.nearest(
            request, [r["request"] for o in self._records.values() for r in list(o.values())[:1] if r["kind"] == kind])
        if nearest is None:
            why = f"the cassette holds no {kind} request at all"
        else:
            why = "nearest recorded request differs: " + "; ".join(differences)
        return errors.CassetteMiss(
            f"No recorded answer{where} in {self.path.name} (replay mode): {why}. Re-record with "
            f"`jupyter-llm record NOTEBOOK`, or record what is missing with %llm_cassette --mode auto.",
            cell=cell, differences=differences, nearest=nearest,
        )


_decided = threading.local()


def last_decision() -> str:
    """How this thread's last :meth:`Cassette.answer` went: ``replayed``, ``recorded`` or ``live``
    (fallback mode: sent, and not recorded)."""
    return getattr(_decided, "source", "recorded")


def _scrub(request: dict, secrets) -> dict:
    text = json.dumps({k: v for k, v in request.items() if k not in _TRANSPORT_KEYS}, ensure_ascii=False,
                      sort_keys=True)
    return json.loads(errors.redact(text, secrets))


def line(record: dict) -> str:
    """An exchange as its line in the file. What the request was comes first, in canonical
    order; chunks keep the server's order."""
    head = {k: record[k] for k in ("kind", "n", "request")}
    body = {k: v for k, v in record.items() if k not in head}
    text = json.dumps(head, ensure_ascii=False, sort_keys=True, separators=(",", ":"))[:-1]
    return text + "," + json.dumps(body, ensure_ascii=False, separators=(",", ":"))[1:] if body else text + "}"


def sort_key(record: dict) -> tuple:
    """Where an exchange's line goes in a cassette written whole: by request, then occurrence."""
    return (_key(record["kind"], record["request"]), record["n"])


def _key(kind: str, request: dict) -> str:
    return kind + "\x00" + json.dumps(request, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def settle(path, before: Path | None = None) -> int:
    """Write the cassette at ``path`` whole and sorted by request, as ``jupyter-llm record``
    leaves it, and return its number of exchanges.

    Lines re-recorded for an occurrence replace the older ones. Where the cassette ``before``
    (the file as it was before this recording) answered a request the same way (ids and
    timings aside), its line is kept as it was: re-recording the same answers changes no line.
    """
    path = Path(path)
    tape = CassetteFile(path)
    with tape.locked():
        current = _exchanges(tape)
        earlier = _exchanges(CassetteFile(before)) if before is not None and before.is_file() else {}
        lines = []
        for where in sorted(current):
            record = current[where]
            old = earlier.get(where)
            keep = (old is not None and cassette_format.current(old)
                    and cassette_format.answer(old) == cassette_format.answer(record))
            lines.append(line(old if keep else record))
        write_atomic(path, "\n".join([cassette_format.header(), *lines]) + "\n")
    return len(lines)


def _exchanges(tape: CassetteFile) -> dict[tuple, dict]:
    records, _ = tape.read_new()
    return {sort_key(record): record for record in records}


def default_path(notebook) -> Path:
    """``x.ipynb`` -> ``x.llm.jsonl`` beside it."""
    notebook = Path(notebook)
    return notebook.with_name(notebook.name.removesuffix(".ipynb") + SUFFIX)


def use(path=None, mode: str = "auto", *, speed: float = 0.0) -> Cassette:
    """A :class:`Cassette` for ``path`` (default: beside the running notebook), to use in ``with``."""
    if path is None:
        notebook = kernel.notebook_path()
        if notebook is None:
            raise errors.ConfigError("cassette(): give a path; the notebook's path is not known here.")
        path = default_path(notebook)
    return Cassette(path, mode, speed=speed)


# Which cassette answers: the innermost `with jupyter_llm.cassette(...)`, else the session's
# (cassette_transport.active). A plain list, not a context variable: batch jobs send from
# worker threads.
_stack: list[Cassette] = []
_stack_lock = threading.Lock()


def innermost() -> Cassette | None:
    """The cassette of the innermost ``with jupyter_llm.cassette(...)`` block, if any."""
    with _stack_lock:
        return _stack[-1] if _stack else None


class _CallableModule(types.ModuleType):
    """``jupyter_llm.cassette(path, mode)`` is this module called: the module and the
    function share the name the design gives them."""

    def __call__(self, path=None, mode: str = "auto", *, speed: float = 0.0) -> Cassette:
        return use(path, mode, speed=speed)


sys.modules[__name__].__class__ = _CallableModule
