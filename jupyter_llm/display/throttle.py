"""Coalesce a stream of changes into about one update message per interval.

A flush may take several messages (a new widget and its display): the next one then
waits that many intervals, so the front end gets about 1/interval messages a second
however they are grouped. A flush that took long (a big block rendered) makes the next
wait longer too, so rendering never takes more than a fifth of the time.

No timer thread: a cell that streams blocks the kernel's main thread, and output sent
from another thread after the cell ends lands in whichever cell runs next. The caller
flushes what is left at the end (``pending`` tells whether anything is waiting).
"""
from __future__ import annotations

import math
import time
from collections.abc import Callable

_BUDGET = 5  # a flush may use a fifth of the time: the kernel keeps up with any stream


class Throttle:
    """``due()`` on every change; yes at most once per ``interval`` × the last flush's cost.

    Example::

        throttle = Throttle(0.05)
        for event in stream:
            apply(event)
            if throttle.due():
                throttle.cost(flush())   # flush() returns how many messages it sent
        if throttle.pending:
            flush()
    """

    def __init__(self, interval: float = 0.05, clock: Callable[[], float] = time.monotonic):
        self.interval = interval
        self.clock = clock
        self.pending = False
        self._last = -math.inf
        self._wait = interval

    def due(self) -> bool:
        """Note a change; True (and the change counted as flushed) when it is time to flush."""
        now = self.clock()
        if now - self._last >= self._wait:
            self._last = now
            self.pending = False
            return True
        self.pending = True
        return False

    def flushed(self) -> None:
        """Record a flush made outside ``due()`` (a forced one, or the last)."""
        self._last = self.clock()
        self.pending = False

    def cost(self, messages: int, seconds: float = 0.0, most: int = 4) -> None:
        """The last flush sent ``messages`` messages in ``seconds``: wait as many intervals
        (``most`` at most), and at least ``_BUDGET`` times as long as it took. An interval of
        0 flushes every change, however long it takes."""
        self._wait = self.interval and max(self.interval * min(max(messages, 1), most), seconds * _BUDGET)
