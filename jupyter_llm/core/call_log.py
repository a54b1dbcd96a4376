"""The call log: one row per model call, kept in SQLite, searchable, across kernels.

Every chat, embeddings and rerank request is logged, together with:

- where it came from: the time, the notebook and the cell;
- what was asked: the model, the parameters, the messages and the tools;
- what came back: the content, the reasoning, the tool calls, the finish reason, the usage;
- how long it took: time to first token and the whole duration;
- the error, if it failed;
- how it was answered: live, replayed from a cassette, or served from the cache;
- the conversation it belongs to, or the batch.

A key, a header or a URL is never logged. With ``log_content = false``, prompts and replies
are left out and the metadata is kept. Rows are written by one background thread that
commits a few at a time, so logging costs a call no more than putting a dict on a queue.

Example::

    from jupyter_llm.core import call_log
    call_log.search("rivers")[:3]      # rows whose prompt or reply mentions rivers
"""
from __future__ import annotations

import atexit
import json
import queue
import sqlite3
import threading
import itertools
import os
import time
from datetime import datetime, timezone

from . import kernel, store
from .notes import note

_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    rowid INTEGER PRIMARY KEY,
    id TEXT UNIQUE NOT NULL,
    time TEXT NOT NULL,
    kind TEXT NOT NULL,
    model TEXT,
    notebook TEXT,
    cell_id TEXT,
    execution_count INTEGER,
    params TEXT,
    messages TEXT,
    tools TEXT,
    tool_calls TEXT,
    content TEXT,
    reasoning TEXT,
    finish_reason TEXT,
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    reasoning_tokens INTEGER,
    ttft REAL,
    duration REAL,
    error_class TEXT,
    error_message TEXT,
    source TEXT,
    conversation TEXT,
    batch TEXT
);
CREATE INDEX IF NOT EXISTS calls_time ON calls(time);
CREATE VIRTUAL TABLE IF NOT EXISTS calls_text USING fts5(prompt, reply);
"""
#: Columns of a row, in order (the text index is kept apart).
COLUMNS = ("id", "time", "kind", "model", "notebook", "cell_id", "execution_count", "params", "messages", "tools",
           "tool_calls", "content", "reasoning", "finish_reason", "prompt_tokens", "completion_tokens",
           "reasoning_tokens", "ttft", "duration", "error_class", "error_message", "source", "conversation", "batch")
_CONTENT = ("messages", "tool_calls", "content", "reasoning", "error_message")
_JSON = ("params", "messages", "tools", "tool_calls")
_FLUSH_SECONDS = 0.05
#: Characters of a reply's text and reasoning kept in its row. The log finds and explains
#: calls; a whole reply of tens of megabytes (a big -f json answer) would grow the file and
#: its text index by as much, on every run of the cell. The reply itself is in the Reply.
TEXT_KEPT = 1_000_000

_db = store.Shared("log.db", _SCHEMA)
_serial = itertools.count()


def new_id() -> str:
    """A row id that sorts by time, unique across kernels: what ``Reply.log_id`` holds before the row is written."""
    return f"{time.time_ns():x}-{os.getpid():x}-{next(_serial):x}"


def where() -> dict:
    """The notebook and cell a call is made from, when a front end says them."""
    running = kernel.shell()
    notebook = kernel.notebook_path()
    out = {"notebook": str(notebook) if notebook else None, "cell_id": None,
           "execution_count": getattr(running, "execution_count", None)}
    get_parent = getattr(getattr(running, "kernel", None), "get_parent", None)
    if get_parent is not None:
        try:
            out["cell_id"] = (get_parent().get("metadata") or {}).get("cellId")
        except Exception:  # a kernel without a parent message (a background thread)
            pass
    return out


def record(entry: dict, *, content: bool = True) -> None:
    """Queue one call's row (``entry`` holds the COLUMNS that are known); written shortly after.

    Only what cannot wait is done here, on the call's own time: the clock, the data dir, and
    copies of the lists the caller may go on changing. The row is built and its JSON encoded
    by the writer thread.
    """
    entry["time"] = entry.get("time") or time.time()
    for name in _JSON:
        value = entry.get(name)
        if value.__class__ is list:
            entry[name] = list(value)
        elif value.__class__ is dict:
            entry[name] = dict(value)
    # The row belongs to the data dir of its call, even if the dir changes before it is written.
    _writer().put((store.data_dir(), entry, content))


def _row(entry: dict, content: bool) -> dict:
    """The columns of a queued entry, as SQLite stores them."""
    row = {name: entry.get(name) for name in COLUMNS}
    if not isinstance(row["time"], str):
        row["time"] = datetime.fromtimestamp(row["time"], timezone.utc).isoformat(timespec="milliseconds")
    for name in ("content", "reasoning"):
        text = row[name]
        if isinstance(text, str) and len(text) > TEXT_KEPT:
            row[name] = f"{text[:TEXT_KEPT]}\n… ({len(text) - TEXT_KEPT:,} more characters, not logged)"
    if not content:
        row.update(dict.fromkeys(_CONTENT))
    row["prompt_text"] = _prompt_text(row["messages"])
    for name in _JSON:
        if row[name] is not None and not isinstance(row[name], str):
            try:
                row[name] = json.dumps(row[name], ensure_ascii=False, default=str)
            except (TypeError, ValueError):  # a cycle or odd keys: this thread must not die of it
                row[name] = json.dumps(str(row[name]), ensure_ascii=False)
    return row


def flush() -> None:
    """Wait until every queued row is written (reading the log does this first)."""
    writer = _the_writer
    if writer is not None:
        writer.flush()


def query(sql_where: str = "", args: tuple = (), *, limit: int | None = None, text: str | None = None) -> list[dict]:
    """Rows matching ``sql_where`` (and the full-text ``text``), newest first."""
    flush()
    clauses, params = [], list(args)
    if sql_where:
        clauses.append(f"({sql_where})")
    if text:
        clauses.append("rowid IN (SELECT rowid FROM calls_text WHERE calls_text MATCH ?)")
        params.append(_fts(text))
    sql = f"SELECT {', '.join(COLUMNS)} FROM calls"
    if clauses:
        sql += " WHERE " + " AND ".join(clauses)
    sql += " ORDER BY time DESC, rowid DESC"
    if limit:
        sql += f" LIMIT {int(limit)}"
    return [dict(zip(COLUMNS, values)) for values in _db.get().execute(sql, params)]


def forget(sql_where: str = "1", args: tuple = ()) -> int:
    """Delete the rows matching ``sql_where`` (and their text from the index); how many went."""
    flush()
    connection = _db.get()
    with _lock:
        connection.execute("BEGIN IMMEDIATE")
        try:
            rowids = [r for (r,) in connection.execute(f"SELECT rowid FROM calls WHERE {sql_where}", args)]
            connection.executemany("DELETE FROM calls_text WHERE rowid = ?", [(r,) for r in rowids])
            connection.executemany("DELETE FROM calls WHERE rowid = ?", [(r,) for r in rowids])
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
    return len(rowids)


def size() -> int:
    """Bytes the log takes on disk."""
    return _db.size()


def path():
    return _db.path


def _fts(text: str) -> str:
    # Each word a quoted term: what a user types is searched for, never parsed as a query.
    return " ".join('"' + word.replace('"', '""') + '"' for word in text.split())


_lock = threading.Lock()
_the_writer: _Writer | None = None


class _Writer:
    """One thread that writes queued rows in small transactions."""

    def __init__(self):
        self._queue: queue.SimpleQueue = queue.SimpleQueue()
        self._done = threading.Condition()
        self._queued = self._written = 0
        self._warned: set = set()
        threading.Thread(target=self._run, name="jupyter-llm-log", daemon=True).start()

    def put(self, row: dict) -> None:
        with self._done:
            self._queued += 1
        self._queue.put(row)

    def flush(self) -> None:
        with self._done:
            target = self._queued
            self._done.wait_for(lambda: self._written >= target, timeout=10)

    def _run(self) -> None:
        while True:
            rows = [self._queue.get()]
            time.sleep(_FLUSH_SECONDS)  # gather what else arrives: one commit for many calls
            while True:
                try:
                    rows.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                for where in dict.fromkeys(w for w, _, _ in rows):
                    try:
                        _write(where, [_row(entry, content) for w, entry, content in rows if w == where])
                    except (OSError, sqlite3.Error) as exc:
                        # The calls themselves succeeded: say so once per folder and keep the writer alive.
                        if where not in self._warned:
                            self._warned.add(where)
                            note(f"could not write the call log in {where} ({exc}); the calls are not "
                                 f"logged. Set JUPYTER_LLM_DATA_DIR to a writable folder, or log = false.")
            finally:
                with self._done:
                    self._written += len(rows)
                    self._done.notify_all()


def _write(where, rows: list[dict]) -> None:
    """Insert ``rows`` and their text index in one transaction, in a few statements for all.

    Each statement releases the GIL and takes it back; one per row made the calling thread
    wait for the writer a few times per batch, which cost short calls several per cent.
    """
    connection = _db.get(where)
    with _lock:
        connection.execute("BEGIN IMMEDIATE")
        try:
            known = set()
            for part in _parts([row["id"] for row in rows]):
                known.update(i for (i,) in connection.execute(
                    f"SELECT id FROM calls WHERE id IN ({', '.join('?' * len(part))})", part))
            new = [row for row in rows if row["id"] not in known]
            connection.executemany(f"INSERT INTO calls ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})",
                                   [[row[name] for name in COLUMNS] for row in new])
            indexed = [row for row in new if row["messages"] or row["content"]]
            rowids: dict[str, int] = {}
            for part in _parts([row["id"] for row in indexed]):
                rowids.update(connection.execute(
                    f"SELECT id, rowid FROM calls WHERE id IN ({', '.join('?' * len(part))})", part))
            connection.executemany("INSERT INTO calls_text (rowid, prompt, reply) VALUES (?, ?, ?)",
                                   [(rowids[row["id"]], row["prompt_text"],
                                     "\n".join(filter(None, (row["content"], row["reasoning"])))) for row in indexed])
            connection.execute("COMMIT")
        except BaseException:
            connection.execute("ROLLBACK")
            raise


def _parts(values: list, size: int = 500) -> list[list]:
    """``values`` in lists short enough for one statement's parameters."""
    return [values[start:start + size] for start in range(0, len(values), size)]


def _prompt_text(messages) -> str:
    """The text of the messages sent, for the full-text index."""
    if not messages:
        return ""
    if isinstance(messages, str):
        try:
            messages = json.loads(messages)
        except json.JSONDecodeError:
            return messages
    texts = []
    for message in messages if isinstance(messages, list) else [messages]:
        content = message.get("content") if isinstance(message, dict) else message
        if isinstance(content, str):
            texts.append(content)
        elif isinstance(content, list):
            texts += [p.get("text", "") for p in content if isinstance(p, dict)]
    return "\n".join(texts)


def _writer() -> _Writer:
    global _the_writer
    if _the_writer is None:
        with _lock:
            if _the_writer is None:
                _the_writer = _Writer()
                atexit.register(_the_writer.flush)
    return _the_writer
