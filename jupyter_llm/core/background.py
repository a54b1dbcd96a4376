"""Run the one chat path off an asyncio loop, with its events handed back to that loop.

Panels must keep the kernel responsive while a reply streams: a widget callback that
blocks freezes every other widget, Stop included. The transport is synchronous (the
openai SDK and a line reader), so the request runs in a worker thread through
``chat.send`` and its events are delivered on the loop in batches, where widgets may be
touched safely.

Stopping sets a flag that the chat path meets at its next event (or retry notice) as
:class:`~jupyter_llm.errors.Stopped`, which makes it close the HTTP response, as an
interrupted cell does. The awaiting side is released at once and does not wait for that.
"""
from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable

from .. import errors
from .chat import send
from .events import Event
from .reply import Reply
from .stream import ReplyBuilder


class BackgroundChat:
    """One streamed chat request run in a worker thread; ``await job.run()`` on the loop.

    ``on_events`` is called on the loop's thread with each batch of new events (a list).
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
        # What arrived, kept on the loop's side: the reply so far when the user stops.
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
        # The caller's context goes along: the kernel keeps the cell an output belongs to in it.
        context = contextvars.copy_context()
        threading.Thread(target=context.run, args=(self._work,), name="jupyter-llm-chat", daemon=True).start()
        return await self._done

    def stop(self) -> None:
        """Stop the reply: ``run()`` raises :class:`errors.Stopped` now; the request ends at its next event."""
        self._stop.set()
        self._call(self._release)

    def _work(self) -> None:
        try:
            reply = send(self.messages, on_event=self._forward, **self.options)
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
        except (AttributeError, RuntimeError):  # not started, or the kernel's loop has closed
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
            self._stop.set()
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
