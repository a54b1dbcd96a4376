"""Embedding vectors on disk, as float32 files that read back at the speed of a ``.npy``.

Each :func:`put` writes one immutable *segment*: the vectors as raw little-endian float32
(``seg-DIMS-ID.f32``) and, beside it, their keys (the first 8 bytes of each key's
SHA-256, ``.keys``). Both files are written atomically, the keys file last, so a segment
exists once its keys do. :func:`get` reads the keys files, which are small, sorts them
once, finds the wanted keys with a binary search, and gathers the rows from the
memory-mapped segments. That is one copy per vector, which is what ``np.load`` does too.

Several kernels may write at once: segments have unique names and are never rewritten.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np

from ..core.files import write_bytes_atomic


def _segments(folder: Path, dims: int | None) -> list[tuple[int, Path]]:
    found = []
    for keys in folder.glob("seg-*.keys") if folder.exists() else ():
        size = int(keys.name.split("-")[1])
        if dims is None or size == dims:
            found.append((size, keys.with_suffix(".f32")))
    return sorted(found)


def short_keys(keys: list[bytes]) -> np.ndarray:
    """The 8-byte prefixes of ``keys`` as unsigned integers: what the keys files hold."""
    return np.frombuffer(b"".join(k[:8] for k in keys), dtype="<u8")


def put(folder: Path, keys: list[bytes], vectors: np.ndarray) -> None:
    """Write ``vectors`` (one row per key) as a new segment in ``folder``."""
    if not keys:
        return
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    name = f"seg-{vectors.shape[1]}-{uuid.uuid4().hex}"
    write_bytes_atomic(folder / f"{name}.f32", vectors.tobytes(), mode=0o600)
    write_bytes_atomic(folder / f"{name}.keys", short_keys(keys).tobytes(), mode=0o600)


def get(folder: Path, keys: list[bytes], dims: int | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """``(matrix, hit)``: row ``i`` of ``matrix`` is ``keys[i]``'s vector where ``hit[i]``.

    ``matrix`` is None when no key was found; ``dims`` narrows the search to one width.
    """
    wanted = short_keys(keys)
    hit = np.zeros(len(keys), dtype=bool)
    for size, data in _by_width(folder, dims):
        index, segment, row = _index(size, data)
        where = np.searchsorted(index, wanted)
        where[where >= len(index)] = 0
        found = index[where] == wanted if len(index) else np.zeros(len(wanted), bool)
        if not found.any():
            continue
        matrix = np.empty((len(keys), size), dtype=np.float32)
        for number, path in enumerate(data):
            positions = np.flatnonzero(found & (segment[where] == number))
            if len(positions):
                _gather(np.memmap(path, dtype="<f4", mode="r").reshape(-1, size), row[where[positions]],
                        positions, matrix)
        hit |= found
        return matrix, hit
    return None, hit


def _gather(segment: np.ndarray, rows: np.ndarray, positions: np.ndarray, out: np.ndarray) -> None:
    """``out[positions] = segment[rows]``, as one block copy when both runs are contiguous
    (texts embedded again in the order they were first embedded: the usual re-run)."""
    first, last = positions[0], positions[-1]
    if last - first == len(positions) - 1 and rows[-1] - rows[0] == len(rows) - 1 and (np.diff(rows) == 1).all():
        out[first:last + 1] = segment[rows[0]:rows[-1] + 1]
    else:
        out[positions] = segment[rows]


def clear(folder: Path) -> None:
    """Delete every segment (and any write left half done)."""
    for path in folder.glob("seg-*") if folder.exists() else ():
        path.unlink(missing_ok=True)
    for path in folder.glob(".seg-*") if folder.exists() else ():
        path.unlink(missing_ok=True)


def count(folder: Path) -> tuple[int, int]:
    """How many vectors the segments hold, and their bytes on disk."""
    vectors = size = 0
    for width, data in _segments(folder, None):
        if data.exists():
            size += data.stat().st_size + data.with_suffix(".keys").stat().st_size
            vectors += data.stat().st_size // (4 * width)
    return vectors, size


def _by_width(folder: Path, dims: int | None) -> list[tuple[int, list[Path]]]:
    widths: dict[int, list[Path]] = {}
    for size, data in _segments(folder, dims):
        widths.setdefault(size, []).append(data)
    return sorted(widths.items())


def _index(size: int, data: list[Path]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The sorted keys of every segment of one width, with each key's segment and row."""
    keys = [np.fromfile(path.with_suffix(".keys"), dtype="<u8") for path in data]
    everything = np.concatenate(keys) if keys else np.empty(0, "<u8")
    segment = np.concatenate([np.full(len(k), i, dtype=np.int32) for i, k in enumerate(keys)]) if keys else \
        np.empty(0, np.int32)
    row = np.concatenate([np.arange(len(k), dtype=np.int64) for k in keys]) if keys else np.empty(0, np.int64)
    order = np.argsort(everything, kind="stable")
    return everything[order], segment[order], row[order]

