"""The emulator refuses what real servers refuse, in their words, and honours what they honour.

Checked with the openai SDK itself: its typed errors, its streaming helpers (`.stream()`,
`get_final_completion()`) and `.parse()` with a pydantic model, on every chat model. The
words come from tests/corpus/refusals.json (transcribed from vLLM, one-api and LiteLLM).
"""
from __future__ import annotations

import json
import re
from pathlib import Path

import openai
import pytest
from pydantic import BaseModel

from jupyter_llm.emulator import start
from jupyter_llm.emulator._models import BUILTIN

REFUSALS = {c["id"]: c for c in json.loads(
    (Path(__file__).resolve().parents[1] / "corpus" / "refusals.json").read_text(encoding="utf-8"))["cases"]}
ASK = [{"role": "user", "content": "Name a river in France."}]
CHAT_MODELS = [name for name, spec in BUILTIN.items() if spec.get("kind", "chat") == "chat"]
TOOL = {"type": "function", "function": {"name": "weather", "parameters": {"type": "object", "properties": {}}}}


@pytest.fixture(scope="module")
def em():
    with start() as server:
        yield server


def client(em, emulate: str = "") -> openai.OpenAI:
    headers = {"X-Emulator": emulate} if emulate else {}
    return openai.OpenAI(base_url=em.url, api_key="sk-test", max_retries=0, default_headers=headers)


def corpus_message(case_id: str) -> str:
    body = REFUSALS[case_id]["body"]
    return (body.get("error") or body)["message"]


@pytest.mark.parametrize("case_id, fields", [
    ("vllm-negative-temperature", {"temperature": -0.5}),
    ("vllm-temperature-above-2", {"temperature": 2.5}),
    ("vllm-top_p-zero", {"top_p": 0.0}),
    ("vllm-n-greedy", {"n": 2, "temperature": 0}),
    ("vllm-stream-options-without-stream", {"stream_options": {"include_usage": True}}),
    ("vllm-tool-choice-not-in-tools", {"tools": [TOOL],
                                       "tool_choice": {"type": "function", "function": {"name": "other"}}}),
    ("vllm-tool-choice-without-tools", {"tool_choice": {"type": "function", "function": {"name": "weather"}}}),
    ("vllm-top_logprobs-without-logprobs", {"top_logprobs": 2}),
])
def test_sampling_and_request_refusals_are_vllms_400_in_its_words(em, case_id, fields):
    with pytest.raises(openai.BadRequestError) as caught:
        client(em).chat.completions.create(model="qwen72b-awq", messages=ASK, **fields)
    assert caught.value.status_code == 400
    assert caught.value.body["message"] == corpus_message(case_id)
    assert caught.value.body["type"] == "BadRequestError"


@pytest.mark.parametrize("messages, words", [
    ([{"role": "wizard", "content": "hi"}], "messages.0.role"),
    ([{"role": "user", "content": "hi"}, {"role": "assistant", "content": None, "tool_calls": []},
      {"role": "tool", "content": "22 C"}], "messages.2.tool_call_id"),
])
def test_malformed_messages_are_refused(em, messages, words):
    with pytest.raises(openai.BadRequestError, match=re.escape(words)):
        client(em).chat.completions.create(model="qwen72b-awq", messages=messages)


@pytest.mark.parametrize("emulate, case_id, status", [
    ("fault=503-channel", "one-api-no-channel", 503),
    ("fault=not-allowed", "one-api-token-model-not-allowed", 403),
    ("fault=quota", "one-api-token-quota-exhausted-remaining", 401),
    ("fault=quota-user", "one-api-user-quota-not-enough", 403),
    ("fault=quota-pre", "one-api-token-quota-not-enough", 403),
    ("fault=saturated", "one-api-upstream-429-rewritten", 429),
])
def test_one_api_refusals_have_its_shape_words_and_request_ids(em, emulate, case_id, status):
    with pytest.raises(openai.APIStatusError) as caught:
        client(em, emulate).chat.completions.create(model="qwen72b-awq", messages=ASK)
    error = caught.value
    template = re.escape(re.sub(r" \(request id: \d+\)", "", corpus_message(case_id)))
    template = template.replace("gpt\\-4o", r"\S+")
    assert error.status_code == status and error.body["type"] == REFUSALS[case_id]["body"]["error"]["type"]
    found = re.fullmatch(template + r" \(request id: (\d+)\)", error.body["message"])
    assert found and error.response.headers["X-Oneapi-Request-Id"] == found.group(1)


def test_one_apis_own_rate_limiter_answers_429_with_no_body(em):
    with pytest.raises(openai.RateLimitError) as caught:
        client(em, "fault=busy").chat.completions.create(model="qwen72b-awq", messages=ASK)
    assert caught.value.response.content == b""


@pytest.mark.parametrize("gateway, case_id, status", [("litellm", "litellm-invalid-model", 400),
                                                      ("none", "vllm-model-not-found", 404)])
def test_other_fronts_refuse_an_unknown_model_in_their_words(em, gateway, case_id, status):
    with pytest.raises(openai.APIStatusError) as caught:
        client(em, f"gateway={gateway}").chat.completions.create(model="gpt-4o", messages=ASK)
    assert caught.value.status_code == status and caught.value.body["message"] == corpus_message(case_id)


def test_stop_strings_end_the_answer_and_are_reported(em):
    plain = client(em).chat.completions.create(model="qwen72b-awq", messages=ASK).choices[0].message.content
    word = plain.split()[5]
    cut = client(em).chat.completions.create(model="qwen72b-awq", messages=ASK, stop=[word])
    assert cut.choices[0].message.content == plain[:plain.index(word)]
    assert cut.choices[0].finish_reason == "stop" and cut.choices[0].stop_reason == word
    streamed = client(em).chat.completions.create(model="qwen72b-awq", messages=ASK, stop=word, stream=True)
    chunks = list(streamed)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == plain[:plain.index(word)]


def test_n_choices_each_stream_to_their_own_finish(em):
    with client(em).chat.completions.stream(model="qwen72b-awq", messages=ASK, n=3, temperature=0.7) as stream:
        final = stream.get_final_completion()
    texts = [c.message.content for c in final.choices]
    assert [c.index for c in final.choices] == [0, 1, 2] and len(set(texts)) == 3
    assert all(c.finish_reason == "stop" for c in final.choices)
    plain = client(em).chat.completions.create(model="qwen72b-awq", messages=ASK, n=3, temperature=0.7)
    assert [c.message.content for c in plain.choices] == texts


def test_logprobs_come_per_answer_token_with_the_alternatives_asked_for(em):
    reply = client(em).chat.completions.create(model="qwen72b-awq", messages=ASK, logprobs=True, top_logprobs=3)
    entries = reply.choices[0].logprobs.content
    assert "".join(e.token for e in entries) == reply.choices[0].message.content
    assert all(len(e.top_logprobs) == 3 and e.logprob <= 0 for e in entries)
    with client(em).chat.completions.stream(model="qwen72b-awq", messages=ASK, logprobs=True,
                                            top_logprobs=2) as stream:
        final = stream.get_final_completion()
    assert [e.token for e in final.choices[0].logprobs.content] == [e.token for e in entries]


def test_envelopes_carry_what_vllm_sends(em):
    reply = client(em).chat.completions.create(model="qwen3-32b", messages=ASK)
    assert reply.system_fingerprint is None and "system_fingerprint" in reply.model_fields_set
    assert reply.usage.completion_tokens_details.reasoning_tokens > 0
    tools = client(em).chat.completions.create(model="qwen72b-awq", messages=ASK, tools=[TOOL])
    assert tools.choices[0].message.content is None and tools.choices[0].message.tool_calls


class River(BaseModel):
    name: str
    length_km: int


@pytest.mark.parametrize("model", CHAT_MODELS)
def test_the_sdks_own_helpers_work_on_every_model(em, model):
    with client(em).chat.completions.stream(model=model, messages=ASK) as stream:
        final = stream.get_final_completion()
    assert final.choices[0].message.content and final.choices[0].finish_reason == "stop"
    parsed = client(em).chat.completions.parse(model=model, messages=ASK, response_format=River)
    river = parsed.choices[0].message.parsed
    assert isinstance(river, River) and river.name
    assert "<think>" not in parsed.choices[0].message.content, "a reasoning model's JSON has no thought in it"
