"""Record and replay model traffic, so a notebook re-runs identically without the gateway.

A cassette is a text file (JSON Lines) beside the notebook: ``x.ipynb`` -> ``x.llm.jsonl``.
It sits where the transport talks HTTP: chat chunks (as parsed dicts, with their times),
embeddings, rerank and ``/v1/models`` answers are stored under the normalised request
(model, messages, parameters, tools; never headers, keys or URLs). A replay yields the
same chunks through the same display path, instantly or at the recorded pace.

Modes: ``record`` (start afresh, call the gateway, keep everything), ``replay`` (never
call the gateway; an unrecorded request is a :class:`~jupyter_llm.errors.CassetteMiss`),
``auto`` (replay what is recorded, record what is not), ``fallback`` (replay what is
recorded, send what is not to the gateway and keep nothing: a shipped notebook whose
readers change its prompts), ``off``. A request sent several times is recorded each time
and replayed in the same order; sent more often than that (a cell re-run by hand),
replay gives it its last recorded answer again.

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
from . import cassette_diff, kernel
from .files import write_atomic
from .notes import note

MODES = ("off", "auto", "record", "replay", "fallback")
SUFFIX = ".llm.jsonl"
_FORMAT = 1
#: Keys of a chat body that the transport adds itself; they do not tell two requests apart.
_TRANSPORT_KEYS = ("stream", "stream_options")
_ERROR_ATTRS = ("model", "available", "limit", "requested", "retry_after", "request_id")


class Cassette:
    """One cassette file and what this process recorded into it; a context manager.

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
        self._records: dict[str, list[dict]] = {}   # key -> occurrences, in order
        self._used: dict[str, int] = {}
        self._lines: dict[tuple, str] = {}          # (sort key) -> serialised line
        self._announced = False
        self._live_told: str | None = None
        if mode in ("auto", "replay", "fallback"):
            self._load()

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

    def _load(self) -> None:
        if not self.path.is_file():
            return
        for number, line in enumerate(self.path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                raise errors.ConfigError(
                    f"{self.path}, line {number}, is not JSON: the cassette was edited by hand or "
                    f"merged badly. Fix the line, or re-record with `jupyter-llm record NOTEBOOK`."
                ) from exc
            if "kind" not in record:
                continue  # the header line
            key = _key(record["kind"], record["request"])
            self._records.setdefault(key, []).append(record)
            self._lines[_sort_key(record)] = line

    def answer(self, request, live):
        """Answer one transport request: replay it, or run ``live()`` and record what it returns."""
        kind, secrets = request.kind, request.all_secrets()
        body = _scrub(request.body, secrets)
        key = _key(kind, body)
        with self._lock:
            self._announce()
            n = self._used.get(key, 0)
            self._used[key] = n + 1
            recorded = self._records.get(key, [])
            _decided.source = "replayed"
            if self.mode != "record" and n < len(recorded):
                return _replay(kind, recorded[n], self.speed)
            if self.mode in ("replay", "fallback"):
                if recorded:
                    # Sent more often than recorded: a cell run again by hand. Its last answer
                    # is what the user saw for it, better than an error in the middle of a class.
                    return _replay(kind, recorded[-1], self.speed)
                if self.mode == "replay":
                    raise self._miss(kind, body)
        if self.mode == "fallback":
            _decided.source = "live"
            self._tell_live(kind)
            return live()
        _decided.source = "recorded"
        record = {"kind": kind, "n": n, "request": body}
        if kind == "chat":
            return self._record_stream(key, record, live, secrets)
        try:
            record["response"] = live()
        except errors.BudgetExceeded:
            raise  # the session's own limit, not the gateway's answer: nothing to replay
        except errors.LLMError as exc:
            record["error"] = _error_record(exc)
            self._store(key, record, secrets)
            raise
        self._store(key, record, secrets)
        return record["response"]

    @property
    def replaying(self) -> bool:
        """True in replay mode: nothing this cassette answers reaches the gateway."""
        return self.mode == "replay"

    def _record_stream(self, key, record, live, secrets):
        chunks = record["chunks"] = []
        start = time.perf_counter()
        try:
            for chunk in live():
                chunks.append([round(time.perf_counter() - start, 4), chunk])
                yield chunk
        except errors.BudgetExceeded:
            raise  # the session's own limit, not the gateway's answer: nothing to replay
        except errors.LLMError as exc:
            record["error"] = _error_record(exc)
            self._store(key, record, secrets)
            raise
        # A reply the user interrupted (GeneratorExit, KeyboardInterrupt) is not kept: replaying
        # half an answer would pass it off as what the model said.
        self._store(key, record, secrets)

    def _store(self, key: str, record: dict, secrets) -> None:
        record = json.loads(errors.redact(json.dumps(record, ensure_ascii=False), secrets))
        with self._lock:
            occurrences = self._records.setdefault(key, [])
            # Concurrent requests with the same key finish in any order; number them as stored.
            record["n"] = len(occurrences)
            occurrences.append(record)
            self._lines[_sort_key(record)] = _line(record)
            self._write()

    def _write(self) -> None:
        header = json.dumps({"jupyter_llm_cassette": _FORMAT, "exchanges": len(self)})
        write_atomic(self.path, "\n".join([header] + [self._lines[k] for k in sorted(self._lines)]) + "\n")

    def _announce(self) -> None:
        if self._announced:
            return
        self._announced = True
        # Same words in every mode but the mode itself, so a recorded notebook and its replay
        # differ only where the sanitiser expects it.
        note(f"cassette {self.path.name} ({self.mode} mode)")

    def _tell_live(self, kind: str) -> None:
        # Once per cell: a student who edits a second prompt hears it again, a map() once.
        where = cassette_diff.cell()
        if self._live_told == where:
            return
        self._live_told = where
        note(f"{self.path.name} has no answer for this {kind} request: sent live, not recorded (fallback mode).")

    def _miss(self, kind, request) -> errors.CassetteMiss:
        cell = cassette_diff.cell()
        where = f" in {cell}" if cell else ""
        nearest, differences = cassette_diff.nearest(request, [r[0]["request"] for r in self._records.values()
                                                  if r[0]["kind"] == kind])
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


def _replay(kind: str, record: dict, speed: float):
    if kind == "chat":
        return _replay_stream(record, speed)
    if "error" in record:
        raise _rebuild(record["error"])
    return record["response"]


def _replay_stream(record: dict, speed: float):
    before = 0.0
    for at, chunk in record["chunks"]:
        if speed:
            time.sleep(max(0.0, at - before) / speed)
            before = at
        yield chunk
    if "error" in record:
        raise _rebuild(record["error"])


def _error_record(exc: errors.LLMError) -> dict:
    out = {"type": type(exc).__name__, "message": str(exc), "status_code": exc.status_code}
    out.update({name: getattr(exc, name) for name in _ERROR_ATTRS if getattr(exc, name, None) is not None})
    return out


def _rebuild(data: dict) -> errors.LLMError:
    cls = getattr(errors, data.get("type", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.LLMError)):
        cls = errors.LLMError
    exc = cls(data["message"], status_code=data.get("status_code"))
    for name in _ERROR_ATTRS:
        if name in data:
            setattr(exc, name, data[name])
    return exc


def _scrub(request: dict, secrets) -> dict:
    text = json.dumps({k: v for k, v in request.items() if k not in _TRANSPORT_KEYS}, ensure_ascii=False,
                      sort_keys=True)
    return json.loads(errors.redact(text, secrets))


def _line(record: dict) -> str:
    # What the request was comes first and in canonical order; chunks keep the server's order.
    head = {k: record[k] for k in ("kind", "n", "request")}
    body = {k: v for k, v in record.items() if k not in head}
    text = json.dumps(head, ensure_ascii=False, sort_keys=True)[:-1]
    return text + ", " + json.dumps(body, ensure_ascii=False)[1:] if body else text + "}"


def _key(kind: str, request: dict) -> str:
    return kind + "\x00" + json.dumps(request, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def _sort_key(record: dict) -> tuple:
    return (_key(record["kind"], record["request"]), record["n"])


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
