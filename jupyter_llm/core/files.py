"""Writing files so that a crash or a full disk never leaves half a file behind."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path


def write_bytes_atomic(path, data: bytes | memoryview, *, mode: int | None = None) -> Path:
    """Like :func:`write_atomic`, for bytes; ``mode`` sets the new file's permissions."""
    path = Path(path)
    folder = path.parent if str(path.parent) else Path(".")
    folder.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_atomic(path, text: str) -> Path:
    """Write ``text`` to a temporary file beside ``path``, then rename it over ``path``.

    A process killed mid-write leaves the previous file intact; a failed write leaves no
    temporary file behind. The file keeps the mode of the one it replaces.
    """
    path = Path(path)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    return write_bytes_atomic(path, text.encode("utf-8"), mode=mode)
