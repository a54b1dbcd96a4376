"""The file behind a cassette: read it line by line, append one exchange under a lock.

Recording appends: one line per exchange, written in one call under a lock that every
process recording the same file takes, after reading what the others appended since.
So two kernels recording at once both keep everything, an edit or a ``git checkout``
made during a session is never overwritten, and an exchange costs the same however long
the file is. A read-only file is never written.
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from pathlib import Path

import filelock

from .. import errors
from . import cassette_format
from .notes import note


class CassetteFile:
    """One cassette file: its records as read so far, and where the reading stopped."""

    def __init__(self, path: Path):
        self.path = path
        digest = hashlib.sha256(str(path).encode()).hexdigest()[:20]
        # The lock lives in the temporary folder, not beside the notebook: no stray file to
        # commit, and it outlasts the cassette being replaced by a rename.
        # Not per thread: the cassette serialises its own threads; this lock is between processes.
        self._lock = filelock.FileLock(os.path.join(tempfile.gettempdir(), f"jupyter-llm-{digest}.lock"),
                                       thread_local=False)
        self._identity: tuple | None = None
        self._offset = 0
        self._line = 0
        self._ends_cleanly = True
        self._torn = False

    def read_only(self) -> bool:
        """True when the file exists without a write permission bit (checked by mode, so that
        it holds for root too)."""
        try:
            return not os.stat(self.path).st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        except FileNotFoundError:
            return False

    def read_new(self) -> tuple[list[dict], bool]:
        """The exchanges added since the last read, and whether the file was replaced (then
        every exchange in it is returned: an edit or a checkout is the new truth)."""
        try:
            with open(self.path, "rb") as handle:
                info = os.fstat(handle.fileno())
                identity = (info.st_dev, info.st_ino)
                replaced = identity != self._identity or info.st_size < self._offset
                if replaced:
                    self._identity, self._offset, self._line = identity, 0, 0
                handle.seek(self._offset)
                data = handle.read()
        except FileNotFoundError:
            replaced = self._identity is not None
            self._identity, self._offset, self._line, self._ends_cleanly = None, 0, 0, True
            return [], replaced
        end = data.rfind(b"\n") + 1
        complete, rest = data[:end], data[end:]
        records = [r for r in (self._parse(line) for line in complete.decode("utf-8").split("\n")[:-1])
                   if r is not None]
        self._offset += end
        if rest:
            record = self._parse_last(rest)
            if record is not None:
                records.append(record)
                self._offset += len(rest)
        self._ends_cleanly = not rest
        self._torn = bool(rest) and self._offset < info.st_size
        return records, replaced

    def append(self, line: str) -> None:
        """Write one line at the end (call under :meth:`locked`, after :meth:`read_new`)."""
        if self._torn:
            # Under the lock nobody else is writing: what is cut off is a dead writer's.
            os.truncate(self.path, self._offset)
            self._torn, self._ends_cleanly = False, True
        data = (("" if self._ends_cleanly else "\n") + line + "\n").encode("utf-8")
        if self._offset == 0 and not self.path.exists():
            data = (cassette_format.header() + "\n").encode() + data
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view):]
            info = os.fstat(fd)
        finally:
            os.close(fd)
        if self._identity is None:
            self._identity = (info.st_dev, info.st_ino)
        self._offset += len(data)
        self._line += data.count(b"\n")
        self._ends_cleanly = True

    def locked(self):
        """The lock every process recording this file takes around read_new and append."""
        return self._lock

    def _parse(self, line: str) -> dict | None:
        self._line += 1
        if not line.strip():
            return None
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise self._bad("is not JSON") from None
        if isinstance(record, dict) and "jupyter_llm_cassette" in record:
            version = record["jupyter_llm_cassette"]
            if not isinstance(version, int) or version > cassette_format.VERSION:
                raise self._bad(f"says format {version!r}, newer than this jupyter-llm reads "
                                f"({cassette_format.VERSION}): upgrade jupyter-llm")
            return None
        why = cassette_format.check(record)
        if why:
            raise self._bad(why)
        return record

    def _parse_last(self, rest: bytes) -> dict | None:
        """A last line without its newline: a complete exchange (an editor dropped the newline),
        or the start of one cut by a killed writer, which is left out with a note."""
        try:
            return self._parse(rest.decode("utf-8"))
        except (errors.ConfigError, UnicodeDecodeError):
            note(f"{self.path.name}: the last line ({len(rest):,} bytes) was cut off by an interrupted write "
                 f"and is left out; re-record that exchange.")
            return None

    def _bad(self, why: str) -> errors.ConfigError:
        return errors.ConfigError(
            f"{self.path}, line {self._line}, {why}: the cassette was edited by hand or merged badly. "
            f"Fix or delete that line, or re-record with `jupyter-llm record NOTEBOOK`.")
