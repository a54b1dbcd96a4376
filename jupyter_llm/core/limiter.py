"""The session's request limiter: requests in flight, requests and tokens per minute, 429 back-off.

Every request the transport sends holds a *slot* for as long as it runs (a chat slot
lasts until its stream is closed), so one limiter bounds everything a notebook sends:
``%%llm`` cells, panels, ``embed()`` and ``map()`` alike. The gateway asks its users to
bound their own load, and a 429 is its way of saying the bound is too high, so the
limiter adapts: a 429 halves the number of slots (at most once per back-off window;
one less, near a level refused before) and makes every new request wait out the
Retry-After; successes add the slots back one
at a time (additive increase, multiplicative decrease), but not up to the level that
was refused until a quiet spell has passed, so a fixed ceiling is not probed over and over.

Threads take slots with :meth:`Limiter.slot`; coroutines on an asyncio loop (a batch's
rows) take them with :meth:`Limiter.aslot` from the same counts, so both kinds share one
budget. A coroutine waiting for a slot waits on a future that a release resolves, never
by blocking its loop.
"""
from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager, contextmanager

from .tokens import estimate_messages

_WINDOW = 60.0
#: After this long without a 429 and with nothing in flight, the full concurrency comes back.
_RECOVER_IDLE = 5.0
_RECHECK = 0.5  # the limits are session settings: look at them again while waiting
#: How long the level a 429 refused stays off limits.
_HOLD = 30.0


class Limiter:
    """Bounds requests in flight, requests/minute and tokens/minute; shrinks itself on 429.

    ``limits()`` returns ``(concurrency, rpm, tpm)``; None or 0 means no bound. It is
    called on every acquire, so a change of ``jupyter_llm.session`` applies at once.

    Example::

        from jupyter_llm.core.limiter import Limiter
        limiter = Limiter(lambda: (4, 600, None))
        with limiter.slot(tokens=120):
            ...  # send one request
    """

    def __init__(self, limits: Callable[[], tuple], clock: Callable[[], float] = time.monotonic):
        self._limits = limits
        self._clock = clock
        self._cond = threading.Condition()
        self._local = threading.local()
        self._active = 0
        self._cap: int | None = None
        self._successes = 0
        self._paused_until = 0.0
        self._last_cut = -math.inf
        self._refused: int | None = None
        self._starts: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()
        # Coroutines waiting for a slot: (their loop, a future a release resolves).
        self._waiters: deque[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = deque()
        #: How many 429s the limiter has seen (for progress and reports).
        self.throttled = 0

    @property
    def active(self) -> int:
        """Requests holding a slot now."""
        return self._active

    @property
    def cap(self) -> int | None:
        """The concurrency the limiter has shrunk to after 429s (None: not shrunk)."""
        return self._cap

    @contextmanager
    def slot(self, tokens: int = 0):
        """Hold one slot for the body of the ``with``; nested use in one thread holds one slot."""
        # This thread's own record, kept by reference: a stream closed by the garbage collector
        # in another thread must still give back the slot of the thread that took it.
        mine = self._local.__dict__
        depth = mine.get("depth", 0)
        if depth == 0:
            self._acquire(tokens)
        mine["depth"] = depth + 1
        ok = False
        try:
            yield
            ok = True
        finally:
            mine["depth"] -= 1
            if mine["depth"] == 0:
                self._release(ok)

    def backoff(self, wait: float, sleep: Callable[[float], None], *, rate_limited: bool) -> None:
        """Wait ``wait`` seconds before a retry, without holding a slot meanwhile.

        On a 429 the whole limiter shrinks and new requests wait as long as this one does;
        the pause ends with this wait, so a long Retry-After does not outlive its request.
        """
        held = getattr(self._local, "depth", 0) > 0
        pause_end = self._pause(wait, rate_limited, held)
        try:
            sleep(wait)
        finally:
            with self._cond:
                self._unpause(pause_end, rate_limited)
                if held:
                    self._acquire_locked(0, paused_ok=True)

    async def abackoff(self, wait: float, sleep: Callable[[float], Awaitable], *, rate_limited: bool) -> None:
        """:meth:`backoff` for a coroutine that holds no slot: ``await sleep(wait)`` in between."""
        pause_end = self._pause(wait, rate_limited, False)
        try:
            await sleep(wait)
        finally:
            with self._cond:
                self._unpause(pause_end, rate_limited)

    @asynccontextmanager
    async def aslot(self, tokens: int = 0):
        """:meth:`slot` for a coroutine: waiting for the slot lets the loop run other tasks."""
        await self.acquire(tokens)
        ok = False
        try:
            yield
            ok = True
        finally:
            self.release(ok)

    async def acquire(self, tokens: int = 0) -> None:
        """Take a slot from a coroutine, waiting without blocking its loop; :meth:`release` gives it back."""
        loop = asyncio.get_running_loop()
        while True:
            with self._cond:
                wait = self._wait(self._clock(), tokens, False)
                if wait <= 0:
                    self._take(tokens)
                    return
                waiter = loop.create_future()
                self._waiters.append((loop, waiter))
            try:
                await asyncio.wait((waiter,), timeout=min(wait, _RECHECK))
            finally:
                with self._cond:
                    if (loop, waiter) in self._waiters:
                        self._waiters.remove((loop, waiter))

    def release(self, ok: bool) -> None:
        """Give back a slot taken with :meth:`acquire`; ``ok``: the request succeeded."""
        self._release(ok)

    def _pause(self, wait: float, rate_limited: bool, held: bool) -> float:
        with self._cond:
            now = self._clock()
            pause_end = now + wait
            if rate_limited:
                self.throttled += 1
                self._paused_until = max(self._paused_until, pause_end)
                if now - self._last_cut >= wait:
                    level = min(self._cap or self._active, self._active)
                    # The first 429 says little about the gateway's room: halve. Near a level
                    # refused before, the ceiling is known: step just under it.
                    near = self._refused is not None and level >= self._refused - 1
                    self._cap = max(1, level - 1 if near else level // 2)
                    self._refused = level
                    self._successes = 0
                    self._last_cut = now
            if held:
                self._active -= 1
                self._notify()
        return pause_end

    def _unpause(self, pause_end: float, rate_limited: bool) -> None:
        if rate_limited and self._paused_until <= pause_end:
            self._paused_until = min(self._paused_until, self._clock())
            self._notify(everyone=True)

    def add_tokens(self, tokens: int) -> None:
        """Count tokens the server reported (completions) against tokens/minute."""
        if tokens > 0:
            with self._cond:
                self._tokens.append((self._clock(), tokens))

    def reset(self) -> None:
        """Forget the history: 429 shrinkage, pauses and the per-minute windows."""
        with self._cond:
            self._cap, self._successes, self._paused_until, self._refused = None, 0, 0.0, None
            self._last_cut = -math.inf
            self._starts.clear()
            self._tokens.clear()
            self.throttled = 0
            self._notify(everyone=True)

    def _acquire(self, tokens: int) -> None:
        with self._cond:
            self._acquire_locked(tokens)

    def _acquire_locked(self, tokens: int, paused_ok: bool = False) -> None:
        while True:
            wait = self._wait(self._clock(), tokens, paused_ok)
            if wait <= 0:
                break
            self._cond.wait(min(wait, _RECHECK))
        self._take(tokens)

    def _take(self, tokens: int) -> None:
        now = self._clock()
        self._active += 1
        self._starts.append(now)
        if tokens:
            self._tokens.append((now, tokens))

    def _wait(self, now: float, tokens: int, paused_ok: bool) -> float:
        if not paused_ok and now < self._paused_until:
            return self._paused_until - now
        concurrency, rpm, tpm = self._limits()
        if self._cap is not None and self._active == 0 and now - self._last_cut > _RECOVER_IDLE:
            self._cap = self._refused = None
        limit = min(filter(None, (concurrency, self._cap)), default=0)
        if limit and self._active >= limit:
            return _RECHECK
        while self._starts and self._starts[0] <= now - _WINDOW:
            self._starts.popleft()
        if rpm and len(self._starts) >= rpm:
            return self._starts[0] + _WINDOW - now
        while self._tokens and self._tokens[0][0] <= now - _WINDOW:
            self._tokens.popleft()
        if tpm and self._tokens and sum(n for _, n in self._tokens) + tokens > tpm:
            return self._tokens[0][0] + _WINDOW - now
        return 0.0

    def _release(self, ok: bool) -> None:
        with self._cond:
            self._active -= 1
            if ok and self._cap is not None:
                self._successes += 1
                if self._successes >= self._cap:
                    self._successes = 0
                    below = self._refused is None or self._cap + 1 < self._refused
                    if below or self._clock() - self._last_cut > _HOLD:
                        self._cap += 1
                        concurrency = self._limits()[0]
                        if concurrency and self._cap >= concurrency:
                            self._cap = self._refused = None
            self._notify()

    def _notify(self, everyone: bool = False) -> None:
        """Wake the threads waiting, and one waiting coroutine (all when the limits changed).

        Called with the condition held. One slot freed is one coroutine's turn: waking every
        waiter on each release would cost a batch of n rows n x concurrency wake-ups.
        """
        self._cond.notify_all()
        for _ in range(len(self._waiters) if everyone else min(1, len(self._waiters))):
            loop, waiter = self._waiters.popleft()
            if not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, waiter)


def _resolve(waiter: asyncio.Future) -> None:
    if not waiter.done():
        waiter.set_result(None)


def estimate_tokens(body: dict) -> int:
    """A request's tokens before it is sent: its messages (the same local estimate that warns
    about the context, CJK text included) plus ``max_tokens``."""
    return estimate_messages(body.get("messages") or []) + (body.get("max_tokens") or 0)


def no_limits() -> tuple:
    return None, None, None


_shared: Limiter | None = None
_shared_lock = threading.Lock()


def shared() -> Limiter:
    """The process's limiter, which every request goes through; :func:`follow` gives its limits."""
    global _shared
    if _shared is None:
        with _shared_lock:
            if _shared is None:
                _shared = Limiter(no_limits)
    return _shared


def follow(limits: Callable[[], tuple]) -> None:
    """Take the shared limiter's bounds from ``limits()`` (the session's settings) from now on."""
    shared()._limits = limits
