"""Tokens and requests per model for this session, and for the last ``map()`` batch.

Counted once per chat request, after its reply is assembled (never per chunk), so the
streaming path pays nothing for it. ``%llm_usage`` shows the tables.
"""
from __future__ import annotations

import threading

from .events import Usage
from .limiter import shared

_FIELDS = ("requests", "failed", "prompt_tokens", "completion_tokens", "reasoning_tokens", "total_tokens")
_lock = threading.Lock()
_session: dict[str, dict[str, int]] = {}
_last_batch: dict[str, dict[str, int]] = {}
_last_batch_note = ""


def _add(table: dict, model: str, usage: Usage | None, failed: bool) -> None:
    row = table.setdefault(model, dict.fromkeys(_FIELDS, 0))
    row["requests"] += 1
    row["failed"] += bool(failed)
    if usage is not None:
        row["prompt_tokens"] += usage.prompt_tokens or 0
        row["completion_tokens"] += usage.completion_tokens or 0
        row["reasoning_tokens"] += usage.reasoning_tokens or 0
        row["total_tokens"] += usage.total_tokens or 0


def record(model: str, usage: Usage | None, *, failed: bool = False) -> None:
    """Count one chat request of ``model`` in the session totals (and its tokens for tokens/minute)."""
    with _lock:
        _add(_session, model, usage, failed)
    if usage is not None and usage.completion_tokens:
        shared().add_tokens(usage.completion_tokens)


def set_last_batch(rows: dict[str, dict[str, int]], note: str) -> None:
    """Keep the totals of the batch that just ran (``map()`` calls this when it ends)."""
    global _last_batch, _last_batch_note
    with _lock:
        _last_batch, _last_batch_note = {m: dict(r) for m, r in rows.items()}, note


def batch_counter():
    """An empty per-model table and a function that counts one reply into it."""
    table: dict[str, dict[str, int]] = {}
    lock = threading.Lock()

    def count(model: str, usage: Usage | None, failed: bool = False) -> None:
        with lock:
            _add(table, model, usage, failed)

    return table, count


def totals(last_batch: bool = False):
    """Requests and tokens per model as a DataFrame (the session's, or the last batch's)."""
    import pandas as pd

    with _lock:
        rows = dict(_last_batch if last_batch else _session)
    frame = pd.DataFrame.from_dict(rows, orient="index", columns=list(_FIELDS)).rename_axis("model")
    if len(frame):
        frame.loc["total"] = frame.sum()
    return frame.astype("int64")


def last_batch_note() -> str:
    """One line about the last batch: rows, failures, cache hits."""
    return _last_batch_note


def clear() -> None:
    """Forget the session totals and the last batch."""
    global _last_batch_note
    with _lock:
        _session.clear()
        _last_batch.clear()
        _last_batch_note = ""
