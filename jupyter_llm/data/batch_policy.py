"""When a batch row is tried again, and when the whole batch stops because the gateway is gone.

A batch's rows are read streamed until its replies prove short, then whole (``stream:
false``): see :class:`Delivery`.

A row's attempts are bounded by one number (``map(retries=)``, else the session's
``max_retries``): the transport does not retry batch rows on its own, so ten rows against a
failing server make ten times ``retries + 1`` requests, and the reason a row gives says how
many it took. A few connection failures in a row mean the gateway is down: the batch stops
at once, and the rows not yet sent stay unsent for a re-run to send.

The rows are coroutines on the batch loop: a wait between attempts is an ``await`` that ends
early when the batch stops, and lets the other rows run meanwhile.
"""
from __future__ import annotations

import asyncio
import threading
import time

from .. import errors
from ..core import limiter

#: Failures worth another try for the same row (after the limiter has slowed down).
RETRY = (errors.RateLimitError, errors.GatewayError, errors.TimeoutError, errors.ConnectionError,
         errors.IncompleteReply)
#: Connection failures in a row, across the batch's rows, that stop the batch.
STOP_AFTER = 3
_BACKOFF_CAP = 8.0
_STOP_CHECK = 0.1  # how soon a wait between attempts notices that the batch stopped
#: Streamed replies a batch sees, each quick, before it asks for the rest whole.
PROBE_ROWS = 8
#: A reply slower than this streams: a proxy in front of a gateway commonly drops a request
#: that sends nothing for 60 s, and the gateway's manual asks for streams when replies are long.
WHOLE_UNDER = 15.0


class RowPolicy:
    """Shared by the rows of one batch: bounds their attempts, watches the gateway's failures,
    and holds the batch's stop signal (a wait between attempts ends when it is set)."""

    def __init__(self, retries: int, stop_after: int = STOP_AFTER):
        self.retries = retries
        self.stop_after = stop_after
        self.stop = threading.Event()
        self._lock = threading.Lock()
        self._refused = 0
        self.down: str | None = None   # why the batch gave up on the gateway, once it has

    def succeeded(self) -> None:
        """A row got an answer: the gateway is up."""
        with self._lock:
            self._refused = 0

    async def failed(self, exc: errors.LLMError, attempt: int) -> bool:
        """After attempt number ``attempt`` (0 first) failed with ``exc``: True to try the row
        again (the wait is over), False to give it up. When this failure makes the gateway look
        gone, the batch stops (``down`` says why) and every row gives up."""
        with self._lock:
            if isinstance(exc, errors.ConnectionError):
                self._refused += 1
                if self._refused >= self.stop_after and self.down is None:
                    self.down = str(exc)
                    self.stop.set()
            else:
                self._refused = 0
        if self.stop.is_set() or not isinstance(exc, RETRY) or attempt >= self.retries:
            return False
        wait = getattr(exc, "retry_after", None) or min(_BACKOFF_CAP, 0.5 * 2 ** attempt)
        # Through the shared limiter: a 429 slows every request of the session, not this row alone.
        await limiter.shared().abackoff(wait, self._pause, rate_limited=isinstance(exc, errors.RateLimitError))
        return not self.stop.is_set()

    async def _pause(self, seconds: float) -> None:
        """Sleep ``seconds``, or less when the batch stops meanwhile (``stop`` is set from any thread)."""
        end = time.monotonic() + seconds
        while not self.stop.is_set() and (left := end - time.monotonic()) > 0:
            await asyncio.sleep(min(left, _STOP_CHECK))


def attempts(n: int) -> str:
    """`` (after 3 attempts)`` for a row's reason (nothing after one attempt)."""
    return f" (after {n} attempts)" if n > 1 else ""


class Delivery:
    """How a batch's rows are read: streamed at first, then whole once replies prove short.

    A row nobody watches gains nothing from streaming, and a streamed reply costs the client
    a parse per token; a whole one (:mod:`jupyter_llm.core.whole_reply`) costs one parse. But
    a whole reply sends nothing until it ends, which a proxy may take for a dead request. So
    the first ``probe`` rows stream, and the rest go whole if each of those took under
    ``under`` seconds. A slower reply, or a whole row that timed out, sends the batch back to
    streaming for good. Used on the batch loop's one thread only.

    Example::

        delivery = Delivery(enabled=session.budget_tokens is None)
        reply = await chat_async(request, client=client, stream=not delivery.whole)
    """

    def __init__(self, *, enabled: bool = True, probe: int = PROBE_ROWS, under: float = WHOLE_UNDER):
        self.probe, self.under = probe, under
        self._quick = 0
        self._streaming = not enabled  # for good

    @property
    def whole(self) -> bool:
        """True when the next row should be asked for whole."""
        return not self._streaming and self._quick >= self.probe

    def finished(self, seconds: float) -> None:
        """A row's reply arrived in ``seconds``."""
        if seconds > self.under:
            self._streaming = True
        else:
            self._quick += 1

    def failed(self, exc: errors.LLMError, whole: bool) -> None:
        """A row failed with ``exc``; ``whole`` if it was asked for whole."""
        if whole and (isinstance(exc, errors.TimeoutError) or getattr(exc, "status_code", None) == 504):
            self._streaming = True
