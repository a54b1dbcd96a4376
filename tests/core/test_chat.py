"""The chat path's two readers: the async one streams the same live events as the sync one, and stops as it does."""
from __future__ import annotations

import asyncio
import time

import pytest

from jupyter_llm import errors
from jupyter_llm.core import event_loop, limiter
from jupyter_llm.core.chat import chat, chat_async, prepare
from jupyter_llm.core.events import ContentDelta, Notice, ReasoningDelta, Revised, RoundEnd, ToolStatus

pytestmark = pytest.mark.timeout(120)
MESSAGES = [{"role": "user", "content": "Explain streaming in a few paragraphs."}]


def on_loop(coroutine):
    return event_loop.submit(coroutine).result(timeout=60)


@pytest.mark.parametrize("model, emulate, options", [
    ("qwen3-32b", "", {}),                  # the server's reasoning field
    ("qwq-32b", "", {}),                    # thinking inline, the opening tag in the template
    ("qwen3-30b-a3b", "", {}),              # thinking inline with both tags
    ("qwq-32b", "reasoning=none", {}),      # no closing tag after all: the split is revised at the end
    ("qwen72b-awq", "", {"n": 2}),          # two choices, no reasoning
])
def test_the_async_path_streams_the_events_of_the_sync_path(llm, model, emulate, options):
    llm.extra_headers = {"X-Emulator": emulate} if emulate else {}
    request, client = prepare(MESSAGES, model=model, **options)
    sync_events, async_events = [], []
    sync_reply = chat(request, client=client, on_event=sync_events.append)
    async_reply = on_loop(chat_async(request, client=client, on_event=async_events.append))
    assert isinstance(sync_events[-1], RoundEnd) and isinstance(async_events[-1], RoundEnd)
    assert async_events[:-1] == sync_events[:-1]
    assert (async_reply.content, async_reply.reasoning) == (sync_reply.content, sync_reply.reasoning)
    if emulate == "reasoning=none":
        assert any(isinstance(e, Revised) for e in async_events)
    else:
        assert any(isinstance(e, ContentDelta) for e in async_events)


def test_events_arrive_while_the_reply_streams_not_at_its_end(llm):
    llm.extra_headers = {"X-Emulator": "rate=100; reasoning_tokens=20; answer_tokens=60"}
    request, client = prepare(MESSAGES, model="qwq-32b")
    times = []

    async def main():
        start = time.monotonic()
        reply = await chat_async(request, client=client,
                                 on_event=lambda e: times.append((time.monotonic() - start, type(e))))
        return reply, time.monotonic() - start

    reply, total = on_loop(main())
    first = next(t for t, kind in times if kind in (ReasoningDelta, ContentDelta))
    # 80 tokens at 100 a second: the first piece shows in the first quarter, not when it ends.
    assert first < total / 4 and reply.ttft is not None and reply.ttft < total / 4, (first, total)
    assert sum(kind is ContentDelta for _, kind in times) > 20


def test_on_event_raising_stopped_ends_the_stream_and_keeps_the_partial_reply(llm, emulator):
    llm.extra_headers = {"X-Emulator": "rate=200; answer_tokens=2000"}
    request, client = prepare(MESSAGES, model="qwen72b-awq", max_retries=0)
    seen = []

    def on_event(event):
        seen.append(event)
        if sum(isinstance(e, ContentDelta) for e in seen) >= 10:
            raise errors.Stopped("Stopped.")

    with pytest.raises(errors.Stopped) as stopped:
        on_loop(chat_async(request, client=client, on_event=on_event))
    partial = stopped.value.reply
    assert partial.content == "".join(e.text for e in seen if isinstance(e, ContentDelta)).strip()
    assert partial.content and not partial.complete
    assert limiter.shared().active == 0


def test_cancelling_closes_the_stream_at_once_and_keeps_the_partial_reply(llm, emulator):
    # One request at a time for this model: a second one is refused while the first still streams.
    llm.extra_headers = {"X-Emulator": "rate=50; answer_tokens=2000; max_concurrency=1"}
    request, client = prepare(MESSAGES, model="qwen72b-awq", max_retries=0)
    seen = []

    async def main():
        task = asyncio.get_running_loop().create_task(chat_async(request, client=client, on_event=seen.append))
        while sum(isinstance(e, ContentDelta) for e in seen) < 5:
            await asyncio.sleep(0.01)
        task.cancel()
        try:
            await task
        except asyncio.CancelledError as exc:
            return exc
        raise AssertionError("the cancelled reply finished")

    cancelled = on_loop(main())
    assert cancelled.reply.content and not cancelled.reply.complete
    assert cancelled.reply.content == "".join(e.text for e in seen if isinstance(e, ContentDelta)).strip()
    assert limiter.shared().active == 0
    # The gateway takes the next request once it notices the closed connection (at its next token).
    again = prepare([{"role": "user", "content": "again"}], model="qwen72b-awq", max_tokens=5)[0]
    for _ in range(20):
        try:
            reply = on_loop(chat_async(again, client=client))
            break
        except errors.RateLimitError:
            time.sleep(0.05)
    else:
        raise AssertionError("the cancelled stream was never closed: the gateway still refuses")
    assert reply.complete


def test_retry_notices_reach_on_event(llm, emulator):
    llm.extra_headers = {"X-Emulator": "fault=429; fault_times=1; retry_after=0.1"}
    request, client = prepare(MESSAGES, model="qwen72b-awq", max_retries=2)
    seen = []
    reply = on_loop(chat_async(request, client=client, on_event=seen.append))
    assert reply.complete
    assert any(isinstance(e, Notice) and "retrying" in e.text for e in seen)


def test_a_request_with_tools_reports_each_call_as_it_runs(llm):
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    request, client = prepare([{"role": "user", "content": "What is 2 + 3?"}], model="qwen72b-awq", tools=[add])
    seen = []
    reply = on_loop(chat_async(request, client=client, on_event=seen.append))
    statuses = [(e.name, e.status) for e in seen if isinstance(e, ToolStatus)]
    assert ("add", "running") in statuses and ("add", "done") in statuses
    assert reply.tool_results and reply.content
