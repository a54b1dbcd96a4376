"""BackgroundChat: the one chat path on the batch loop, its events on the caller's loop, Stop."""
from __future__ import annotations

import asyncio
import threading
import time

import pytest

from jupyter_llm import errors
from jupyter_llm.core import event_loop
from jupyter_llm.core.background import BackgroundChat
from jupyter_llm.core.events import ContentDelta, ReasoningDelta

MESSAGES = [{"role": "user", "content": "Explain streaming in a few paragraphs."}]


def test_events_arrive_in_batches_on_the_loop_thread_and_add_up_to_the_reply(llm):
    batches, threads = [], set()

    def on_events(events):
        threads.add(threading.get_ident())
        batches.append(events)

    async def main():
        job = BackgroundChat(MESSAGES, on_events=on_events, model="qwq-32b")
        return await job.run(), threading.get_ident()

    reply, loop_thread = asyncio.run(main())
    events = [e for batch in batches for e in batch]
    assert threads == {loop_thread}
    assert "".join(e.text for e in events if isinstance(e, ContentDelta)) == reply.content
    # The reply has no white space after its text (the one white-space rule); the events keep it.
    assert "".join(e.text for e in events if isinstance(e, ReasoningDelta)).rstrip() == reply.reasoning
    assert reply.complete and reply.content and reply.reasoning


def test_the_loop_stays_free_while_a_reply_streams(llm):
    llm.extra_headers = {"X-Emulator": "rate=200; answer_tokens=100"}
    ticks = []

    async def ticker():
        while True:
            ticks.append(time.monotonic())
            await asyncio.sleep(0.01)

    async def main():
        tick = asyncio.get_running_loop().create_task(ticker())
        reply = await BackgroundChat(MESSAGES, on_events=lambda events: None, model="qwen72b-awq").run()
        tick.cancel()
        return reply

    reply = asyncio.run(main())
    # The reply takes about half a second; a blocked loop would have ticked once or twice.
    assert reply.complete and len(ticks) > 10


def test_stop_raises_stopped_with_the_partial_reply_and_frees_the_gateway(llm, emulator):
    # One request at a time for this model: a second one is refused while the first still streams.
    llm.extra_headers = {"X-Emulator": "rate=50; answer_tokens=2000; max_concurrency=1"}
    llm.max_retries = 0
    seen = []

    async def main():
        job = BackgroundChat(MESSAGES, on_events=seen.extend, model="qwen72b-awq")
        task = asyncio.get_running_loop().create_task(job.run())
        while sum(isinstance(e, ContentDelta) for e in seen) < 5:
            await asyncio.sleep(0.01)
        job.stop()
        with pytest.raises(errors.Stopped) as stopped:
            await task
        return stopped.value

    stopped = asyncio.run(main())
    partial = stopped.reply
    assert partial is not None and not partial.complete
    assert 0 < len(partial.content.split()) < 2000
    # The stopped stream is closed, so the gateway takes the next request.
    from jupyter_llm import ask

    for _ in range(100):
        try:
            reply = ask("again", model="qwen72b-awq", display=False, max_tokens=5)
            break
        except errors.RateLimitError:
            time.sleep(0.05)
    else:
        raise AssertionError("the stopped stream was never closed: the gateway still refuses")
    assert reply.complete


def test_errors_reach_the_awaiting_side_typed(llm):
    async def main():
        return await BackgroundChat(MESSAGES, on_events=lambda events: None, model="no-such-model").run()

    with pytest.raises(errors.ModelNotFound, match="no-such-model"):
        asyncio.run(main())


def test_a_failing_consumer_stops_the_request_instead_of_hanging(llm):
    llm.extra_headers = {"X-Emulator": "rate=200; answer_tokens=500"}

    def broken(events):
        raise ValueError("view broke")

    async def main():
        return await BackgroundChat(MESSAGES, on_events=broken, model="qwen72b-awq").run()

    with pytest.raises(ValueError, match="view broke"):
        asyncio.run(main())


def test_four_replies_at_once_are_coroutines_on_the_batch_loop_not_threads(llm):
    llm.extra_headers = {"X-Emulator": "rate=100; answer_tokens=80"}
    event_loop.loop()  # the one thread a batch starts, once per process
    before = client_threads()
    during = []
    models = ["qwen3-32b", "qwq-32b", "qwen72b-awq", "qwen32b-awq(试用)"]

    async def main():
        seen = {m: [] for m in models}
        jobs = [BackgroundChat(MESSAGES, on_events=seen[m].extend, model=m) for m in models]
        tasks = [asyncio.get_running_loop().create_task(job.run()) for job in jobs]
        while not all(tasks[i].done() for i in range(len(tasks))):
            if all(any(isinstance(e, ContentDelta) for e in seen[m]) for m in models):
                during.append(client_threads())
            await asyncio.sleep(0.02)
        return [t.result() for t in tasks]

    replies = asyncio.run(main())
    assert all(r.complete and r.content for r in replies)
    # All four were streaming together, and not one more thread ran for them.
    assert during and all(names == before for names in during), (before, during)


def client_threads() -> list[str]:
    """The names of this process's threads, but for the emulator's (it serves each connection in one)."""
    return sorted(t.name for t in threading.enumerate() if "emulator" not in t.name and "process_request" not in t.name)
