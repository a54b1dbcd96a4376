"""The local databases: where they live and how they are opened.

Both the call log and the caches are SQLite files in the user's data directory
(``$JUPYTER_LLM_DATA_DIR``, or platformdirs' user data dir). They are opened in WAL mode
with a busy timeout, so several kernels and threads can write at once without losing
anything. Each file is created readable by its owner only: it holds prompts and replies.
"""
from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

import platformdirs

#: Seconds a writer waits for another kernel's transaction before giving up.
BUSY_SECONDS = 30.0
#: The environment variable that moves the data dir.
DATA_DIR_VARIABLE = "JUPYTER_LLM_DATA_DIR"
_dirs: dict[str | None, Path] = {}


def data_dir() -> Path:
    """Where the log and the caches live: ``$JUPYTER_LLM_DATA_DIR`` or the user data dir."""
    override = os.environ.get(DATA_DIR_VARIABLE)
    # Asked once per logged call: a batch's rows would each rebuild the same path.
    found = _dirs.get(override)
    if found is None:
        found = _dirs[override] = Path(override) if override else Path(platformdirs.user_data_dir("jupyter-llm"))
    return found


def connect(name: str, schema: str, *, page_size: int | None = None,
            folder: Path | None = None) -> sqlite3.Connection:
    """A connection to ``name`` in ``folder`` (the data dir), created owner-only with ``schema`` if new."""
    folder = folder or data_dir()
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / name
    if not path.exists():
        # Created empty with owner-only permissions before SQLite writes a byte into it.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    connection = sqlite3.connect(path, timeout=BUSY_SECONDS, check_same_thread=False, isolation_level=None)
    if page_size:
        connection.execute(f"PRAGMA page_size={int(page_size)}")
    connection.execute("PRAGMA journal_mode=WAL")
    connection.execute("PRAGMA synchronous=NORMAL")
    connection.executescript(schema)
    for suffix in ("-wal", "-shm"):
        sidecar = path.with_name(path.name + suffix)
        if sidecar.exists():
            sidecar.chmod(0o600)
    return connection


class Shared:
    """One connection per database per process, opened on first use and reopened if the
    data directory changes (tests and users may point it elsewhere)."""

    def __init__(self, name: str, schema: str, *, page_size: int | None = None):
        self._name, self._schema, self._page_size = name, schema, page_size
        self._lock = threading.Lock()
        self._connection: sqlite3.Connection | None = None
        self._where: Path | None = None

    def get(self, where: Path | None = None) -> sqlite3.Connection:
        """The connection to the database in ``where`` (default: the data dir now)."""
        where = where or data_dir()
        with self._lock:
            if self._connection is None or where != self._where:
                self._connection = connect(self._name, self._schema, page_size=self._page_size, folder=where)
                self._where = where
            return self._connection

    @property
    def path(self) -> Path:
        return data_dir() / self._name

    def size(self) -> int:
        """Bytes on disk, the write-ahead log included."""
        return sum(p.stat().st_size for p in (self.path, self.path.with_name(self.path.name + "-wal"))
                   if p.exists())
