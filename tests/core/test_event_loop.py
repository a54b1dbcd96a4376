"""The batch loop: one loop in one daemon thread, kept for the process."""
from __future__ import annotations

import asyncio
import threading

from jupyter_llm.core import event_loop


def test_every_submission_runs_on_the_same_loop_in_one_thread():
    async def where():
        await asyncio.sleep(0)
        return asyncio.get_running_loop(), threading.current_thread()

    first, second = (event_loop.submit(where()).result(5) for _ in range(2))
    assert first == second and first[1] is not threading.current_thread() and first[1].daemon


def test_an_error_of_the_coroutine_reaches_the_caller():
    async def fails():
        raise ValueError("from the loop")

    future = event_loop.submit(fails())
    try:
        future.result(5)
    except ValueError as exc:
        assert str(exc) == "from the loop"
    else:
        raise AssertionError("the error was lost")
