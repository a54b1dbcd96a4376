"""Embedding vectors on disk, as float32 files that read back at the speed of a ``.npy``.

Each :func:`put` writes one immutable *segment*: the vectors as raw little-endian float32
(``seg-DIMS-ID.f32``) and, beside it, their keys (the first 8 bytes of each key's
SHA-256, ``.keys``). Both files are written atomically, the keys file last, so a segment
exists once its keys do. Several kernels may write at once: segments have unique names and
are never rewritten.

:func:`get` reads the keys files, which are small, and finds where each wanted key lives.
A re-run asks for the texts in the order they were first embedded, so it first walks the
wanted keys segment by segment and compares whole runs; whatever that does not settle is
found by a binary search of all the keys, sorted. The rows are then read from the files
straight into the result, one ``readinto`` per run of consecutive rows, as ``np.load``
does for a whole file; scattered rows are gathered from a memory map.
"""
from __future__ import annotations

import uuid
from pathlib import Path

import numpy as np

from ..core.files import write_bytes_atomic

#: Rows in a run worth its own read; shorter runs are gathered from the memory map.
_RUN = 16
_KEY_BYTES = 32  # SHA-256
_PAGE = 4096


def _segments(folder: Path, dims: int | None) -> list[tuple[int, Path]]:
    found = []
    for keys in folder.glob("seg-*.keys") if folder.exists() else ():
        size = int(keys.name.split("-")[1])
        if dims is None or size == dims:
            found.append((size, keys.with_suffix(".f32")))
    return sorted(found)


def short_keys(keys: list[bytes]) -> np.ndarray:
    """The 8-byte prefixes of ``keys`` as unsigned integers: what the keys files hold."""
    joined = b"".join(keys)
    # Every key at least 32 bytes and 32 on average: every key exactly 32, one strided copy.
    if keys and len(joined) == _KEY_BYTES * len(keys) and min(map(len, keys)) == _KEY_BYTES:
        rows = np.frombuffer(joined, dtype=np.uint8).reshape(len(keys), _KEY_BYTES)
        return np.ascontiguousarray(rows[:, :8]).view("<u8").ravel()
    return np.frombuffer(b"".join([k[:8] for k in keys]), dtype="<u8")


def put(folder: Path, keys: list[bytes], vectors: np.ndarray) -> str | None:
    """Write ``vectors`` (one row per key) as a new segment in ``folder``; returns its name."""
    if not keys:
        return None
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    vectors = np.ascontiguousarray(vectors, dtype="<f4")
    name = f"seg-{vectors.shape[1]}-{uuid.uuid4().hex}"
    write_bytes_atomic(folder / f"{name}.f32", memoryview(vectors).cast("B"), mode=0o600)
    write_bytes_atomic(folder / f"{name}.keys", short_keys(keys).tobytes(), mode=0o600)
    return name


def replace(folder: Path, names: list[str], keys: list[bytes], vectors: np.ndarray) -> str | None:
    """Write ``vectors`` as one segment, then delete the segments ``names``, which held them.

    ``embed()`` keeps each request's vectors as they arrive, so a crash loses none, and
    joins them when it ends: a read of 100,000 vectors from 1,563 small segments took 7-10x
    an ``np.load``, from one segment in the order of the texts about 1.2x. A kernel reading
    meanwhile finds the rows in one segment or the other, or costs them as misses.
    """
    merged = put(folder, keys, vectors)
    for name in names:
        (folder / f"{name}.keys").unlink(missing_ok=True)  # the keys first: a segment exists while they do
        (folder / f"{name}.f32").unlink(missing_ok=True)
    return merged


def get(folder: Path, keys: list[bytes], dims: int | None = None) -> tuple[np.ndarray | None, np.ndarray]:
    """``(matrix, hit)``: row ``i`` of ``matrix`` is ``keys[i]``'s vector where ``hit[i]``, NaN elsewhere.

    ``matrix`` is a fresh C-contiguous float32 array, or None when no key was found; ``dims``
    narrows the search to one width (without it, the first width holding any key answers).
    """
    wanted = short_keys(keys)
    for size, data in _by_width(folder, dims):
        segments = [_keys(path) for path in data]
        starts = np.cumsum([0] + [len(k) for k in segments])
        source = _locate(wanted, segments, starts)
        hit = source >= 0
        if not hit.any():
            continue
        matrix = _page_aligned(len(keys), size)
        hit &= _read(data, starts, source, matrix)
        matrix[~hit] = np.nan
        return matrix, hit
    return None, np.zeros(len(keys), dtype=bool)


def _page_aligned(rows: int, width: int) -> np.ndarray:
    """An empty float32 matrix that starts on a page boundary, as the rows do in the files.

    ``np.empty`` of a large block starts 16 bytes past a page (the allocator's header). Then
    every store of the kernel's copy lands 16 bytes ahead of a load in the same 4 KiB
    window, and the CPU stalls on the false dependency: the read took 3x the time of
    ``np.load``, whose source sits 128 bytes into its file.
    """
    nbytes = rows * width * 4
    raw = np.empty(nbytes + _PAGE, dtype=np.uint8)
    start = -raw.ctypes.data % _PAGE
    return raw[start:start + nbytes].view(np.float32).reshape(rows, width)


def _keys(path: Path) -> np.ndarray:
    try:
        return np.fromfile(path.with_suffix(".keys"), dtype="<u8")
    except FileNotFoundError:  # cleared by another kernel since the folder was listed
        return np.empty(0, dtype="<u8")


def _locate(wanted: np.ndarray, segments: list[np.ndarray], starts: np.ndarray) -> np.ndarray:
    """Where each wanted key is, as a row of all the segments one after another (-1: nowhere)."""
    source = np.full(len(wanted), -1, dtype=np.int64)
    first = {int(k[0]): number for number, k in enumerate(segments) if len(k)}
    done = 0
    while done < len(wanted):
        number = first.get(int(wanted[done]))
        if number is None:
            break
        run = segments[number]
        if not np.array_equal(wanted[done:done + len(run)], run):
            break
        source[done:done + len(run)] = np.arange(starts[number], starts[number + 1])
        done += len(run)
    if done == len(wanted):
        return source
    everything = np.concatenate(segments)
    order = np.argsort(everything)
    ordered = everything[order]
    rest = wanted[done:]
    # Searching sorted keys walks the index once instead of jumping about it.
    by_value = np.argsort(rest)
    where = np.minimum(np.searchsorted(ordered, rest[by_value]), max(0, len(ordered) - 1))
    found = ordered[where] == rest[by_value] if len(ordered) else np.zeros(len(rest), dtype=bool)
    source[done + by_value[found]] = order[where[found]]
    return source


def _read(data: list[Path], starts: np.ndarray, source: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Fill ``out[i]`` with row ``source[i]`` where it is not -1; False where a file has gone or is short."""
    read = np.ones(len(source), dtype=bool)
    positions = np.flatnonzero(source >= 0)
    rows = source[positions]
    segment = np.searchsorted(starts, rows, side="right") - 1
    breaks = np.flatnonzero((np.diff(positions) != 1) | (np.diff(rows) != 1) | (np.diff(segment) != 0)) + 1
    begins, ends = np.concatenate(([0], breaks)), np.concatenate((breaks, [len(positions)]))
    long = ends - begins >= _RUN
    scattered = np.repeat(~long, ends - begins)
    for number in np.unique(segment[begins]):
        mine = segment == number
        try:
            with open(data[number], "rb", buffering=0) as handle:
                runs = long & (segment[begins] == number)
                for begin, end in zip(begins[runs], ends[runs]):
                    first = positions[begin]
                    target = out[first:first + end - begin]
                    if not _read_into(handle, (rows[begin] - starts[number]) * target.strides[0], target):
                        read[first:first + end - begin] = False
                picked = scattered & mine
                if picked.any():
                    read[positions[picked]] = _gather(handle, rows[picked] - starts[number], positions[picked], out)
        except FileNotFoundError:  # cleared by another kernel since its keys were read
            read[positions[mine]] = False
    return read


def _gather(handle, rows: np.ndarray, positions: np.ndarray, out: np.ndarray) -> bool:
    """``out[positions] = file rows[rows]``, from a memory map; False if the file is short."""
    try:
        matrix = np.memmap(handle, dtype="<f4", mode="r")
    except ValueError:  # an empty file cannot be mapped
        return False
    if (int(rows.max()) + 1) * out.shape[1] > len(matrix):
        return False
    out[positions] = matrix.reshape(-1, out.shape[1])[rows]
    return True


def _read_into(handle, offset: int, target: np.ndarray) -> bool:
    """Fill ``target`` (C-contiguous) from ``offset`` of the file; False if the file ends first."""
    buffer = memoryview(target).cast("B")
    handle.seek(offset)
    done = 0
    while done < len(buffer):
        count = handle.readinto(buffer[done:])
        if not count:
            return False
        done += count
    return True


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
