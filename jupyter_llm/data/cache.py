"""Work that survives a restart: finished ``map()`` rows and embedding vectors, by request.

``session.cache`` says where they are kept:
- ``disk`` (the default), in a SQLite file beside the call log. A batch that died at 80%,
  or 100,000 texts embedded before a restart, are not paid for again.
- ``memory``, for this kernel only.
- ``off``.

The default is disk. The call log already keeps prompts and replies on this machine unless
``log_content`` is off, so the cache adds no new kind of exposure. What it saves is real
money and hours of work. For confidential data, set ``cache = "memory"`` (or ``"off"``)
together with ``log_content = false``. The first use says where the cache is and how to
change it.

While a cassette records or replays, the disk is not used and the memory cache holds only
what was answered under that cassette: a recording must come from the gateway, not from an
earlier kernel, and a replay must do exactly what the recording did (a re-run cell that
was answered from the cache while recording is answered from the cache again).
"""
from __future__ import annotations

import json
import threading

import numpy as np

from ..core import store
from ..core.cassette_transport import active
from ..core.notes import note
from ..core.session import current
from . import vector_store

_SCHEMA = "CREATE TABLE IF NOT EXISTS rows (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
_db = store.Shared("cache.db", _SCHEMA)
_lock = threading.Lock()
_memory_vectors: dict[bytes, np.ndarray] = {}
_memory_rows: dict[str, object] = {}
_announced = False
_owner = None  # the cassette the memory cache was filled under (None: no cassette)
_BATCH = 500  # keys per SELECT: under SQLite's limit on bound parameters


def mode() -> str:
    """Where this call's cache lives now: ``disk``, ``memory`` or ``off``."""
    global _owner
    session = current()
    tape = active(session)
    if tape is not _owner:
        with _lock:
            _memory_rows.clear()
            _memory_vectors.clear()
            _owner = tape
    if session.cache == "disk" and tape is not None:
        return "memory"
    return session.cache


def get_vectors(keys: list[bytes], dims: int | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """``(matrix, hit)``: the cached vectors of ``keys`` by position, where ``hit`` is True."""
    where = mode()
    if where == "off" or not keys:
        return None, np.zeros(len(keys), dtype=bool)
    if where == "disk":
        return vector_store.get(_vectors_dir(), keys, dims)
    hit = np.array([k in _memory_vectors for k in keys], dtype=bool)
    if not hit.any():
        return None, hit
    width = next(_memory_vectors[k].shape[0] for k, h in zip(keys, hit) if h)
    matrix = np.full((len(keys), width), np.nan, dtype=np.float32)
    for i in np.flatnonzero(hit):
        matrix[i] = _memory_vectors[keys[i]]
    return matrix, hit


def put_vectors(keys: list[bytes], vectors: np.ndarray) -> str | None:
    """Keep ``vectors`` (one float32 row per key); on disk, returns the segment's name."""
    where = mode()
    if where == "off" or not keys:
        return None
    if where == "memory":
        _memory_vectors.update(zip(keys, np.array(vectors, dtype=np.float32, copy=True)))
        return None
    _announce()
    return vector_store.put(_vectors_dir(), keys, vectors)


def join_vectors(names: list[str], keys: list[bytes], vectors: np.ndarray) -> None:
    """Keep ``vectors`` as one segment in place of the segments ``names``, which held them
    (see :func:`vector_store.replace`)."""
    if len(names) > 1 and mode() == "disk":
        vector_store.replace(_vectors_dir(), names, keys, vectors)


def _vectors_dir():
    return store.data_dir() / "vectors"


def get_rows(keys: list[str]) -> dict[str, object]:
    """The cached answers of ``map()`` rows by request key (missing keys are left out)."""
    where = mode()
    if where == "off" or not keys:
        return {}
    if where == "memory":
        return {k: _memory_rows[k] for k in keys if k in _memory_rows}
    found = {}
    connection = _db.get()
    for start in range(0, len(keys), _BATCH):
        chunk = keys[start:start + _BATCH]
        with _lock:
            rows = connection.execute(f"SELECT key, value FROM rows WHERE key IN ({','.join('?' * len(chunk))})",
                                      chunk).fetchall()
        found.update((key, json.loads(value)) for key, value in rows)
    return found


def put_rows(rows: list[tuple[str, object]]) -> None:
    """Keep finished rows' answers, ``(key, value)`` pairs, at once (a kernel killed a moment
    later keeps them) and in one write: rows that finish together cost one transaction."""
    where = mode()
    if where == "off" or not rows:
        return
    if where == "memory":
        _memory_rows.update(rows)
        return
    _announce()
    encoded = [(key, json.dumps(value, ensure_ascii=False, default=str)) for key, value in rows]
    with _lock:
        connection = _db.get()
        connection.execute("BEGIN")
        try:
            connection.executemany("INSERT OR REPLACE INTO rows (key, value) VALUES (?, ?)", encoded)
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")


def clear() -> None:
    """Forget every cached row and vector, on disk and in memory."""
    _memory_vectors.clear()
    _memory_rows.clear()
    vector_store.clear(_vectors_dir())
    with _lock:
        connection = _db.get()
        connection.execute("DELETE FROM rows")
        connection.execute("VACUUM")


def stats() -> dict:
    """What the cache holds: vectors and rows, on disk and in memory, and the file's size."""
    with _lock:
        rows = _db.get().execute("SELECT count(*) FROM rows").fetchone()[0]
    vectors, vector_bytes = vector_store.count(_vectors_dir())
    return {"mode": current().cache, "path": str(store.data_dir()), "disk_vectors": vectors, "disk_rows": rows,
            "disk_bytes": _db.size() + vector_bytes, "memory_vectors": len(_memory_vectors),
            "memory_rows": len(_memory_rows)}


def _announce() -> None:
    global _announced
    if not _announced:
        _announced = True
        note(f"finished map() rows and embeddings are cached on disk ({store.data_dir()}), so a re-run after a "
             f"restart sends only what is new. For confidential data: %llm_config cache=memory (or off).")
