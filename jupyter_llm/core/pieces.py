"""Text that arrives in many pieces, kept so that the pieces do not outlive their use.

A reply of tens of megabytes comes in tens of thousands of pieces of a kilobyte or so.
Kept until the end and freed all at once, their memory stays with the C allocator, which
keeps it for more such pieces: the parsed JSON's objects live elsewhere, and the kernel
holds the reply's size twice over. Joined every megabyte instead, the pieces are freed as
they go, and each next piece reuses the memory of the last ones.
"""
from __future__ import annotations

#: Characters of pieces joined into one.
STEP = 1 << 20


class Pieces(list):
    """A list of strings that joins its newest pieces once they reach :data:`STEP` characters.

    ``"".join(pieces)`` reads the same as if every piece were kept.

    Example::

        pieces = Pieces()
        for text in ("a", "b"):
            pieces.append(text)
        "".join(pieces)  # 'ab'
    """

    __slots__ = ("_start", "_size")

    def __init__(self, items=()):
        super().__init__(items)
        self._start, self._size = len(self), 0

    def append(self, text: str) -> None:
        super().append(text)
        self._size += len(text)
        if self._size >= STEP:
            self[self._start:] = ["".join(self[self._start:])]
            self._start, self._size = len(self), 0
