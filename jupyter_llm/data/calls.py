"""The call log as pandas sees it: :func:`log`, and the rows for embeddings, rerank and batches.

Chat calls are logged by the core's chat path. This module logs the data layer's own
calls and reads the log back as a DataFrame.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone

from ..core import call_log
from ..core.cassette_transport import last_source
from ..core.kernel import notebook_path
from ..core.session import current

#: Columns of :func:`log`'s DataFrame, in order (the JSON columns stay text: they can be large).
FRAME_COLUMNS = ["time", "kind", "model", "source", "content", "finish_reason", "prompt_tokens",
                 "completion_tokens", "reasoning_tokens", "ttft", "duration", "error_class", "notebook", "cell_id",
                 "execution_count", "conversation", "batch", "params", "messages", "tools", "tool_calls",
                 "reasoning", "error_message"]


def log(n: int | None = 100, *, search: str | None = None, model: str | None = None,
        notebook: str | bool | None = None, since=None, kind: str | None = None):
    """The last ``n`` calls (None: all) as a DataFrame, newest first, indexed by log id.

    ``search`` finds words in prompts and replies (SQLite full-text search); ``model``,
    ``kind`` (chat, embeddings, rerank, batch) and ``notebook`` (a path, or True for the
    running notebook) filter; ``since`` is a datetime, a date string or a timedelta.

    Example::

        jupyter_llm.log(10, search="rivers")            # what did I ask about rivers?
        jupyter_llm.log(None, since="2026-11-01").completion_tokens.sum()
    """
    import pandas as pd

    rows = call_log.query(*filters(model=model, notebook=notebook, since=since, kind=kind), limit=n, text=search)
    frame = pd.DataFrame(rows, columns=["id", *FRAME_COLUMNS]).set_index("id")
    frame["time"] = pd.to_datetime(frame["time"], utc=True, format="ISO8601")
    return frame


def filters(*, model=None, notebook=None, since=None, kind=None, before=None) -> tuple[str, tuple]:
    """The SQL ``WHERE`` text and its arguments for the usual filters."""
    clauses, args = [], []
    if model:
        clauses.append("model = ?")
        args.append(model)
    if kind:
        clauses.append("kind = ?")
        args.append(kind)
    if notebook is True:
        path = notebook_path()
        clauses.append("notebook = ?")
        args.append(str(path) if path else "")
    elif notebook:
        clauses.append("notebook LIKE ?")
        args.append(f"%{notebook}%")
    for operator, moment in ((">=", since), ("<", before)):
        if moment is not None:
            clauses.append(f"time {operator} ?")
            args.append(_iso(moment))
    return " AND ".join(clauses), tuple(args)


def record_call(kind: str, model: str, *, params: dict, inputs, outcome=None, started: float,
                error: BaseException | None = None, source: str | None = None, usage: dict | None = None,
                batch: str | None = None) -> str | None:
    """Log one call of the data layer; returns its log id (None when the log is off)."""
    session = current()
    if not session.log:
        return None
    ident = call_log.new_id()
    usage = usage or {}
    call_log.record({
        "id": ident, "kind": kind, "model": model, **call_log.where(), "params": params, "messages": inputs,
        "content": outcome, "prompt_tokens": usage.get("prompt_tokens"),
        "completion_tokens": usage.get("completion_tokens"), "duration": time.perf_counter() - started,
        "error_class": type(error).__name__ if error is not None else None,
        "error_message": str(error) if error is not None else None,
        "source": source if source is not None else last_source(), "batch": batch,
    }, content=session.log_content)
    return ident


def _iso(moment) -> str:
    if isinstance(moment, timedelta):
        moment = datetime.now(timezone.utc) - moment
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="milliseconds")
