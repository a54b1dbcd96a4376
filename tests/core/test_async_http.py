"""The async transport: a batch loop's requests, answered and refused as the sync transport's are."""
from __future__ import annotations

import asyncio

import pytest
from support import TEST_KEY

from jupyter_llm import errors
from jupyter_llm.core import event_loop, limiter
from jupyter_llm.core.client import Client

MODEL = "qwen72b-awq"


def body(text: str) -> dict:
    return {"model": MODEL, "messages": [{"role": "user", "content": text}]}


def on_loop(coroutine):
    return event_loop.submit(coroutine).result(timeout=60)


async def read(client: Client, text: str) -> str:
    chunks = await client.chat_async(body(text))
    try:
        return "".join([c["choices"][0]["delta"].get("content") or "" async for c in chunks if c.get("choices")])
    finally:
        await chunks.aclose()


def test_many_streams_at_once_read_as_the_sync_transport_reads_each(llm, emulator):
    client = Client(llm, max_retries=0)
    texts = [f"Name fruit number {i}." for i in range(12)]

    async def all_at_once():
        return await asyncio.gather(*(read(client, t) for t in texts))

    answers = on_loop(all_at_once())
    expected = ["".join(c["choices"][0]["delta"].get("content") or "" for c in client.chat(body(t)) if c.get("choices"))
                for t in texts]
    assert answers == expected and all(answers)
    assert limiter.shared().active == 0, "every stream gave its slot back"


def test_embeddings_and_rerank_answer_the_same_json(llm):
    client = Client(llm, max_retries=0)
    embed = {"model": "Qwen3-Embedding-8B", "input": ["a cup", "a mug"], "encoding_format": "base64"}

    async def both():
        vectors = await client.async_transport.handle_async(client.request("embeddings", embed))
        return vectors

    assert on_loop(both())["data"] == client.embeddings(embed)["data"]


def test_a_server_error_is_retried_then_translated_without_the_key(llm, emulator):
    llm.extra_headers = {"X-Emulator": "fault=500"}
    client = Client(llm, max_retries=1)
    with pytest.raises(errors.GatewayError) as caught:
        on_loop(read(client, "hi"))
    sent = [r for r in emulator.requests if r["path"].endswith("/chat/completions")]
    assert len(sent) == 2, "one retry, as max_retries=1 says"
    assert TEST_KEY not in str(caught.value) and TEST_KEY not in repr(caught.value.__cause__)
    assert limiter.shared().active == 0


def test_a_429_shrinks_the_shared_limiter_for_every_request(llm, emulator):
    llm.max_concurrency = 8
    llm.extra_headers = {"X-Emulator": "fault=429"}
    client = Client(llm, max_retries=1)

    async def eight():
        return await asyncio.gather(*(read(client, f"row {i}") for i in range(8)), return_exceptions=True)

    results = on_loop(eight())
    assert all(isinstance(r, errors.RateLimitError) for r in results)
    shared = limiter.shared()
    assert shared.throttled >= 1 and shared.cap is not None and shared.cap <= 4, "halved on the 429s"
    assert shared.active == 0


@pytest.mark.parametrize("auth", ["bearer", "raw"])
def test_both_auth_forms_reach_the_gateway(llm, emulator, auth):
    llm.auth = auth
    on_loop(read(Client(llm, max_retries=0), "hi"))
    assert emulator.requests[-1]["auth"] == auth


def test_with_no_key_a_batch_is_answered_as_ask_is(llm, emulator):
    """The SDK sends a stand-in key when none is set; a server without auth answers it."""
    import jupyter_llm

    llm.api_key = None
    expected = jupyter_llm.ask("hi", model=MODEL, display=False).content
    assert on_loop(read(Client(llm, max_retries=0), "hi")) == expected


@pytest.mark.parametrize("fault, error", [("fault=cut; cut_after=8", errors.IncompleteReply),
                                          ("fault=error-chunk; cut_after=6", errors.GatewayError)])
def test_a_stream_broken_mid_reply_keeps_its_text(llm, fault, error):
    from jupyter_llm.core.chat import chat_async
    from jupyter_llm.core.request import build
    from jupyter_llm.core.session import catalog

    llm.extra_headers = {"X-Emulator": fault}
    request = build(llm, catalog(llm), [{"role": "user", "content": "hi"}], model=MODEL)
    with pytest.raises(error) as caught:
        on_loop(chat_async(request, client=Client(llm, max_retries=0)))
    assert caught.value.reply.content and not caught.value.reply.complete
    assert limiter.shared().active == 0
