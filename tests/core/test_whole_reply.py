"""A chat reply read whole (``stream: false``) gives the Reply its stream gives, on every server shape."""
from __future__ import annotations

import pytest
from support import TEST_KEY

from jupyter_llm import errors
from jupyter_llm.core import event_loop, limiter
from jupyter_llm.core.chat import chat_async
from jupyter_llm.core.client import Client
from jupyter_llm.core.request import build
from jupyter_llm.core.session import catalog

#: (model, emulator settings): each way a server sends the thinking, and none.
SHAPES = {
    "vLLM, reasoning": ("qwen3-32b", "reasoning=reasoning"),
    "older vLLM, reasoning_content": ("qwen3-32b", "reasoning=reasoning_content"),
    "SGLang": ("qwq-32b-128k", "server=sglang; reasoning=sglang"),
    "no parser, no opening tag": ("qwq-32b", "reasoning=inline-open"),
    "no parser, both tags": ("qwen3-30b-a3b", "reasoning=inline"),
    "no thinking": ("qwen72b-awq", "reasoning=none"),
}


def both(llm, model: str, **params):
    """The same request read as a stream and whole, in that order: two Replies, and the bodies sent."""
    client = Client(llm, max_retries=0)
    request = build(llm, catalog(llm), [{"role": "user", "content": "Is a kettle a good gift?"}], model=model,
                    **params)

    async def read(stream: bool):
        return await chat_async(request, client=client, stream=stream)

    streamed = event_loop.submit(read(True)).result(timeout=60)
    whole = event_loop.submit(read(False)).result(timeout=60)
    return streamed, whole


@pytest.mark.parametrize("shape", list(SHAPES))
def test_a_whole_reply_splits_thinking_and_keeps_usage_as_its_stream_does(llm, emulator, shape):
    model, settings = SHAPES[shape]
    llm.extra_headers = {"X-Emulator": f"{settings}; reasoning_tokens=30; answer_tokens=20"}
    streamed, whole = both(llm, model, think=None if shape == "no thinking" else True)
    sent = [r["body"] for r in emulator.requests if r["path"].endswith("/chat/completions")]
    assert sent[-2]["stream"] is True and sent[-1]["stream"] is False
    assert "stream_options" not in sent[-1], "vLLM refuses stream_options on a request that does not stream"
    assert whole.content == streamed.content and whole.content
    assert whole.reasoning == streamed.reasoning
    assert "think>" not in whole.content
    if shape != "no thinking":
        assert whole.reasoning
    assert whole.finish_reason == streamed.finish_reason == "stop"
    assert whole.usage == streamed.usage and whole.usage.completion_tokens > 0
    assert limiter.shared().active == 0, "the whole read gave its slot back"


def test_a_whole_reply_cut_at_max_tokens_says_length(llm, emulator):
    llm.extra_headers = {"X-Emulator": "reasoning=none; answer_tokens=50"}
    streamed, whole = both(llm, "qwen72b-awq", max_tokens=5)
    assert whole.finish_reason == streamed.finish_reason == "length"
    assert whole.content == streamed.content
    assert whole.usage.completion_tokens == streamed.usage.completion_tokens == 5


def test_a_server_error_on_a_whole_reply_is_a_gateway_error_without_the_key(llm, emulator):
    llm.extra_headers = {"X-Emulator": "fault=error-chunk; echo_key=true"}
    client = Client(llm, max_retries=0)
    request = build(llm, catalog(llm), [{"role": "user", "content": "hi"}], model="qwen72b-awq")
    with pytest.raises(errors.GatewayError) as caught:
        event_loop.submit(chat_async(request, client=client, stream=False)).result(timeout=60)
    assert TEST_KEY not in str(caught.value) and TEST_KEY not in repr(caught.value)
    assert limiter.shared().active == 0
