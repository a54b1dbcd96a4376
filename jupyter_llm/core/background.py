"""Run the one chat path on the batch loop, with its events handed back to the caller's loop.

Panels must keep the kernel responsive while a reply streams: a widget callback that
blocks freezes every other widget, Stop included. So the request runs elsewhere: as a
coroutine on the process's batch loop (:mod:`.event_loop`, the loop ``map()`` uses),
through :func:`~jupyter_llm.core.chat.chat_async`. Four models compared at once are four
coroutines on that one thread, not four threads.

The events come back to the caller's loop (the kernel's) in batches, and only there are
widgets touched. Setting widget state from another thread is unsafe: traitlets take no
locks, and since ipykernel 7 what a thread sends is no longer tied to the cell it belongs
to (the kernel keeps that in the caller's context, which goes along with the request here).

Stopping releases the awaiting side at once with what arrived, and cancels the request on
the batch loop, which closes the HTTP response then, even while the gateway sends nothing.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Callable

from .. import errors
from . import event_loop
from .chat import chat_async, prepare
from .client import Client
from .events import Event
from .reply import Reply
from .request import ChatRequest
from .stream import ReplyBuilder


class BackgroundChat:
    """One streamed chat request run on the batch loop; ``await job.run()`` on the caller's loop.

    ``on_events`` is called on the caller's loop with each batch of new events (a list).
    Other keyword arguments go to :func:`jupyter_llm.core.chat.send` (``model``, ``think``, ...).

    Example::

        job = BackgroundChat(messages, model="qwen3-32b", on_events=view.feed)
        task = asyncio.get_running_loop().create_task(job.run())
        job.stop()          # from a button: run() raises errors.Stopped with the partial reply
    """

    def __init__(self, messages: list[dict], *, on_events: Callable[[list[Event]], None], **options):
        self.messages = messages
        self.options = options
        self._on_events = on_events
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._pending: list[Event] = []
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None
        self._done: asyncio.Future | None = None
        self._request: concurrent.futures.Future | None = None
        # What arrived, kept on the caller's side: the reply so far when the user stops.
        self._seen = ReplyBuilder(options.get("model") or "")

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    async def run(self) -> Reply:
        """Start the request and wait for its :class:`Reply` (errors are raised here)."""
        if self._done is not None:
            raise RuntimeError("a BackgroundChat runs once; make a new one to ask again")
        self._loop = asyncio.get_running_loop()
        self._done = self._loop.create_future()
        request, client = prepare(self.messages, **self.options)
        if self._stop.is_set():  # stopped before it started: nothing to send
            self._release()
        else:
            # The coroutine's task starts in a copy of this context: the kernel keeps the cell
            # an output belongs to there.
            self._request = event_loop.submit(self._work(request, client))
        return await self._done

    def stop(self) -> None:
        """Stop the reply: ``run()`` raises :class:`errors.Stopped` now, and the request ends now."""
        self._halt()
        self._call(self._release)

    def _halt(self) -> None:
        self._stop.set()
        if self._request is not None:
            self._request.cancel()

    async def _work(self, request: ChatRequest, client: Client) -> None:
        try:
            reply = await chat_async(request, client=client, on_event=self._forward)
        except Exception as exc:  # every failure belongs to the awaiting side, which shows it
            self._call(self._settle, None, exc)
        else:
            self._call(self._settle, reply, None)

    def _forward(self, event: Event) -> None:
        if self._stop.is_set():
            raise errors.Stopped("Stopped.")
        with self._lock:
            self._pending.append(event)
            if self._scheduled:
                return
            self._scheduled = True
        self._call(self._drain)

    def _call(self, callback, *args) -> None:
        try:
            self._loop.call_soon_threadsafe(callback, *args)
        except (AttributeError, RuntimeError):  # not started, or the caller's loop has closed
            pass

    def _drain(self) -> None:
        with self._lock:
            events, self._pending, self._scheduled = self._pending, [], False
        if not events or self._done.done():
            return
        for event in events:
            self._seen.add(event)
        try:
            self._on_events(events)
        except Exception as exc:  # a broken view must not leave run() waiting for ever
            self._halt()
            self._done.set_exception(exc)

    def _settle(self, reply: Reply | None, error: BaseException | None) -> None:
        self._drain()
        if self._done.done():
            return
        if error is not None:
            if isinstance(error, errors.Stopped):
                self._release()
            else:
                self._done.set_exception(error)
        else:
            self._done.set_result(reply)

    def _release(self) -> None:
        if self._done is None or self._done.done():
            return
        self._drain()
        reply = self._seen.finish()
        self._done.set_exception(errors.Stopped("Stopped by the user; the text so far is kept.", reply=reply))
