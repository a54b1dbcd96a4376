"""The gateway emulator's injected faults, latency and concurrency limit, over real HTTP."""
from __future__ import annotations

import http.client
import json
import re
import threading
import time

import openai
import pytest

from jupyter_llm.emulator import start

KEY = "sk-test-emulator-faults-0123456789"
ASK = [{"role": "user", "content": "Summarise the quarterly report in three bullets."}]


@pytest.fixture(scope="module")
def em():
    """One emulator for this module; fault counters start fresh in every test."""
    with start() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh(em):
    em.reset()


def client(em, emulate: str = "", retries: int = 0) -> openai.OpenAI:
    headers = {"X-Emulator": emulate} if emulate else {}
    return openai.OpenAI(base_url=em.url, api_key=KEY, max_retries=retries, default_headers=headers)


def raw(em, emulate: str, model: str = "qwen72b-int8", stream: bool = True,
        path: str = "/v1/chat/completions",
        body: dict | None = None):
    """(status, response, bytes read, error raised while reading or None)."""
    conn = http.client.HTTPConnection("127.0.0.1", em.port, timeout=30)
    payload = body or {"model": model, "messages": ASK, "stream": stream}
    conn.request("POST", path, json.dumps(payload), {"Authorization": f"Bearer {KEY}", "X-Emulator": emulate})
    response = conn.getresponse()
    try:
        return response.status, response, response.read(), None
    except http.client.IncompleteRead as exc:
        return response.status, response, exc.partial, exc
    finally:
        conn.close()


def lines(data: bytes) -> list[str]:
    return [block[6:] for block in data.decode().split("\n\n") if block]


def test_429_has_retry_after_and_fault_times_then_succeeds(em):
    status, response, data, _ = raw(em, "fault=429; fault_times=1; retry_after=2")
    assert status == 429 and response.getheader("Retry-After") == "2"
    error = json.loads(data)["error"]
    assert error["type"] == "rate_limit_error" and "retry" in error["message"]
    status, _, data, _ = raw(em, "fault=429; fault_times=1; retry_after=2")
    assert status == 200 and lines(data)[-1] == "[DONE]"


def test_sdk_retries_through_a_transient_fault(em):
    sdk = client(em, "fault=502; fault_times=1", retries=1)
    reply = sdk.chat.completions.create(model="qwen72b-int8", messages=ASK)
    assert reply.choices[0].finish_reason == "stop"
    assert [r["path"] for r in em.requests] == ["/v1/chat/completions"] * 2


def test_fault_times_counts_per_model(em):
    emulate = "fault=500; fault_times=1"
    assert raw(em, emulate, model="qwen72b-int8")[0] == 500
    assert raw(em, emulate, model="qwen3-32b")[0] == 500
    assert raw(em, emulate, model="qwen72b-int8")[0] == 200
    em.reset()
    assert raw(em, emulate, model="qwen72b-int8")[0] == 500


@pytest.mark.parametrize("fault, error", [
    ("429", openai.RateLimitError), ("500", openai.InternalServerError),
    ("502", openai.InternalServerError), ("504", openai.InternalServerError),
    ("503-channel", openai.InternalServerError), ("401", openai.AuthenticationError),
    ("403", openai.PermissionDeniedError), ("context", openai.BadRequestError)])
def test_status_faults_reach_the_sdk_as_typed_errors(em, fault, error):
    with pytest.raises(error) as caught:
        client(em, f"fault={fault}").chat.completions.create(model="qwen72b-int8", messages=ASK)
    assert caught.value.body["message"]
    assert caught.value.response.headers["X-Emulator-Fault"] == fault


def test_channel_fault_and_context_fault_wording(em):
    status, headers, data, _ = raw(em, "fault=503-channel")
    body = json.loads(data)
    assert status == 503 and body["error"]["type"] == "one_api_error"
    assert re.fullmatch(r"当前分组 default 下对于模型 qwen72b-int8 无可用渠道 \(request id: \d+\)", body["error"]["message"])
    status, _, data, _ = raw(em, "fault=context")
    assert status == 400
    assert json.loads(data)["error"]["message"].startswith("This model's maximum context length is 16384")


def test_sglang_error_shape(em):
    status, _, data, _ = raw(em, "fault=500; error_shape=sglang")
    body = json.loads(data)
    assert status == 500 and body["object"] == "error" and "error" not in body and body["message"]


def test_slow_delays_the_first_byte(em):
    start_time = time.perf_counter()
    status, _, _, _ = raw(em, "fault=slow; delay=0.3")
    assert status == 200 and time.perf_counter() - start_time >= 0.3


def test_cut_ends_the_stream_without_finish_or_done(em):
    status, response, data, error = raw(em, "fault=cut; cut_after=7")
    assert status == 200 and error is None
    events = [json.loads(line) for line in lines(data)]
    assert [e["choices"][0]["finish_reason"] for e in events] == [None] * 8  # role chunk + 7 tokens
    assert response.getheader("Connection") == "close" or response.will_close


def test_cut_surfaces_in_the_sdk_as_a_stream_without_finish(em):
    stream = client(em, "fault=cut").chat.completions.create(model="qwen3-32b", messages=ASK, stream=True)
    chunks = list(stream)
    assert len(chunks) == 11 and all(c.choices[0].finish_reason is None for c in chunks)


def test_cut_done_sends_done_but_no_finish(em):
    data = raw(em, "fault=cut-done")[2]
    found = lines(data)
    assert found[-1] == "[DONE]"
    assert all(json.loads(line)["choices"][0]["finish_reason"] is None for line in found[:-1])


def test_error_chunk_then_done_raises_in_the_sdk(em):
    found = lines(raw(em, "fault=error-chunk; cut_after=3")[2])
    assert found[-1] == "[DONE]"
    assert json.loads(found[-2])["error"]["type"] == "internal_error"
    stream = client(em, "fault=error-chunk").chat.completions.create(
        model="qwen72b-int8", messages=ASK, stream=True)
    with pytest.raises(openai.APIError, match="Internal server error"):
        list(stream)


def test_malformed_chunk_then_the_stream_goes_on(em):
    found = lines(raw(em, "fault=malformed")[2])
    bad = []
    for line in found[:-1]:
        try:
            json.loads(line)
        except ValueError:
            bad.append(line)
    assert len(bad) == 1 and found[-1] == "[DONE]"
    assert json.loads(found[-2])["choices"][0]["finish_reason"] == "stop"


def test_huge_chunk_is_over_64_kib(em):
    found = lines(raw(em, "fault=huge")[2])
    assert max(len(line) for line in found) > 64 * 1024
    assert found[-1] == "[DONE]"


def test_drop_aborts_the_chunked_body(em):
    status, _, data, error = raw(em, "fault=drop; cut_after=4")
    assert status == 200 and error is not None and b"[DONE]" not in data


def test_non_stream_cut_is_an_incomplete_body(em):
    status, _, data, error = raw(em, "fault=cut", stream=False)
    assert status == 200 and error is not None
    status, _, data, _ = raw(em, "fault=malformed", stream=False)
    with pytest.raises(ValueError):
        json.loads(data)


def test_faults_apply_to_embeddings_and_rerank(em):
    body = {"model": "Qwen3-Embedding-8B", "input": ["a", "b"]}
    assert raw(em, "fault=429", path="/v1/embeddings", body=body)[0] == 429
    assert raw(em, "fault=cut", path="/v1/embeddings", body=body)[3] is not None
    rerank = {"model": "bge-reranker-v2-m3", "query": "q", "documents": ["a"]}
    assert raw(em, "fault=504", path="/v1/rerank", body=rerank)[0] == 504


def test_latency_range_is_deterministic_per_request(em):
    def timed() -> float:
        begin = time.perf_counter()
        assert raw(em, "latency=0.1-0.4", stream=False)[0] == 200
        return time.perf_counter() - begin

    # Lower bounds only: a busy machine can make a request slower, never faster.
    first, second = timed(), timed()
    assert first >= 0.1 and second >= 0.1


def test_rate_paces_the_stream(em):
    begin = time.perf_counter()
    raw(em, "rate=200; answer_tokens=60")
    assert time.perf_counter() - begin >= 0.28


def test_max_concurrency_answers_429_beyond_the_limit(em):
    statuses, retry_after = [], []

    def one() -> None:
        status, response, _, _ = raw(em, "latency=0.6; max_concurrency=2", stream=False)
        statuses.append(status)
        retry_after.append(response.getheader("Retry-After"))

    threads = [threading.Thread(target=one) for _ in range(4)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 200, 429, 429]
    assert sorted(retry_after, key=str)[:2] == ["1", "1"]


def test_echo_key_quotes_the_callers_token_in_error_bodies_and_error_chunks(em):
    """Some gateways quote the token in quota errors, whole and cut: the client must hide both."""
    with pytest.raises(openai.PermissionDeniedError) as refused:
        client(em, "fault=403; echo_key=true").chat.completions.create(model="qwen72b-int8", messages=ASK)
    assert f"(token {KEY}; {KEY[:16]}****)" in refused.value.message
    with pytest.raises(openai.APIError) as mid_stream:
        for _ in client(em, "fault=error-chunk; cut_after=3; echo_key=true").chat.completions.create(
                model="qwen72b-int8", messages=ASK, stream=True):
            pass
    assert KEY in str(mid_stream.value)
    with pytest.raises(openai.PermissionDeniedError) as plain:
        client(em, "fault=403").chat.completions.create(model="qwen72b-int8", messages=ASK)
    assert KEY[:12] not in plain.value.message, "without echo_key the emulator never repeats a key"
