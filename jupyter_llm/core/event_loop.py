"""The process's batch loop: one asyncio event loop in one daemon thread, for many requests at once.

A batch (``map()``'s rows) sends its requests as coroutines on this loop, through the async
transport, instead of one thread per request: a thread per request spends its CPU queueing
for the GIL, and the loop keeps one connection pool warm across calls. The loop starts on
first use and lives as long as the process; a forked child (a Dask worker process) starts
its own.

Example::

    from jupyter_llm.core import event_loop
    future = event_loop.submit(some_coroutine())   # a concurrent.futures.Future
    future.result()
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import os
import threading
from collections.abc import Coroutine

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_owner = 0  # the pid that started the loop: after a fork its thread is gone


def loop() -> asyncio.AbstractEventLoop:
    """The running batch loop, started now if this process has none."""
    global _loop, _owner
    with _lock:
        if _loop is None or _owner != os.getpid() or _loop.is_closed():
            started = threading.Event()
            _loop = asyncio.new_event_loop()
            _owner = os.getpid()
            threading.Thread(target=_serve, args=(_loop, started), name="jupyter-llm-loop", daemon=True).start()
            started.wait()
        return _loop


def submit(coroutine: Coroutine) -> concurrent.futures.Future:
    """Run ``coroutine`` on the batch loop; its result (or error) arrives in the returned future."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop())


def on_loop() -> bool:
    """True when called from the batch loop's own thread (where waiting on it would deadlock)."""
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False


def _serve(running: asyncio.AbstractEventLoop, started: threading.Event) -> None:
    asyncio.set_event_loop(running)
    running.call_soon(started.set)
    running.run_forever()
