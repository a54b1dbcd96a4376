"""The gateway emulator's chat wire: reasoning shapes, tools, thinking switch, limits, images.

Everything goes over real HTTP on 127.0.0.1, with the openai SDK or raw SSE bytes.
"""
from __future__ import annotations

import base64
import http.client
import json
import re
import struct
import zlib

import openai
import pytest

KEY = "sk-test-emulator-chat-0123456789"
ASK = [{"role": "user", "content": "What is the weather in Paris today? Should I pack an umbrella?"}]
WEATHER = {"type": "function", "function": {
    "name": "get_weather", "description": "Current weather for a city.",
    "parameters": {"type": "object", "required": ["location", "unit"], "properties": {
        "location": {"type": "string"}, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer"}}}}}
TIME = {"type": "function", "function": {
    "name": "get_time", "parameters": {"type": "object", "required": ["city", "utc"], "properties": {
        "city": {"type": "string"}, "utc": {"type": "boolean"}}}}}


def client(em, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=em.url, api_key=KEY, max_retries=0, **kw)


def post(em, body: dict, emulate: str = "", path: str = "/v1/chat/completions"):
    """(status, headers, raw body bytes) of one request, read with http.client."""
    conn = http.client.HTTPConnection("127.0.0.1", em.port, timeout=30)
    headers = {"Authorization": KEY, "Content-Type": "application/json"}
    if emulate:
        headers["X-Emulator"] = emulate
    conn.request("POST", path, json.dumps(body).encode(), headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, response, data


def sse(em, model: str, messages=ASK, emulate: str = "", **extra) -> list:
    """The parsed SSE events of a streamed chat request; ``"[DONE]"`` stays a string."""
    status, response, data = post(em, {"model": model, "messages": messages, "stream": True, **extra},
                                  emulate)
    assert status == 200, data
    assert response.getheader("Content-Type").startswith("text/event-stream")
    events = []
    for block in data.decode().split("\n\n"):
        if block:
            assert block.startswith("data: ")
            payload = block[6:]
            events.append(payload if payload == "[DONE]" else json.loads(payload))
    return events


def deltas(events) -> list[dict]:
    return [e["choices"][0]["delta"] for e in events if isinstance(e, dict) and e["choices"]]


def joined(events, key: str) -> str:
    return "".join(d.get(key) or "" for d in deltas(events))


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + b"\x10\x20\x30" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


# -- reasoning wire shapes --------------------------------------------------------------

def test_stream_opens_with_role_and_ends_with_done(emulator):
    events = sse(emulator, "qwen72b-int8")
    assert deltas(events)[0]["role"] == "assistant"
    assert events[-1] == "[DONE]"
    last = events[-2]["choices"][0]
    assert last["finish_reason"] == "stop" and last["logprobs"] is None and "stop_reason" in last
    assert all(e["object"] == "chat.completion.chunk" for e in events[:-1])


def test_new_vllm_sends_reasoning_field_only(emulator):
    events = sse(emulator, "qwen3-32b")
    assert joined(events, "reasoning").startswith("Okay, the user asks")
    assert not any("reasoning_content" in d for d in deltas(events))
    assert joined(events, "content").startswith("You asked: *What is the weather in Paris")


def test_old_vllm_sends_reasoning_content(emulator):
    events = sse(emulator, "qwen3-32b", emulate="reasoning=reasoning_content")
    assert joined(events, "reasoning_content").startswith("Okay")
    assert not any("reasoning" in d for d in deltas(events))


def test_sglang_puts_every_field_on_every_delta(emulator):
    events = sse(emulator, "qwq-32b-128k", stream_options={"include_usage": True})
    for delta in deltas(events):
        assert set(delta) == {"role", "content", "reasoning_content", "tool_calls"}
    kinds = [(d["reasoning_content"] is not None, d["content"] is not None) for d in deltas(events)[1:]]
    assert (True, False) in kinds and (False, True) in kinds
    chunk = events[1]
    assert chunk["usage"] is None and chunk["choices"][0]["matched_stop"] is None
    usage = events[-2]["usage"]
    assert events[-2]["choices"] == [] and usage["reasoning_tokens"] > 0
    assert usage["completion_tokens"] > usage["reasoning_tokens"]


def test_inline_reasoning_without_opening_tag_splits_the_closing_tag(emulator):
    events = sse(emulator, "qwq-32b")
    pieces = [d.get("content") or "" for d in deltas(events)]
    text = "".join(pieces)
    assert "<think>" not in text and text.count("</think>") == 1
    thinking, answer = text.split("</think>")
    assert thinking.startswith("Okay") and answer.startswith("\n\nYou asked:")
    cut = pieces.index("</thi")
    assert pieces[cut + 1].startswith("nk>")


@pytest.mark.parametrize("chunk_tokens", [1, 50])
def test_inline_reasoning_with_both_tags_splits_each(emulator, chunk_tokens):
    events = sse(emulator, "qwen3-30b-a3b", emulate=f"chunk_tokens={chunk_tokens}")
    pieces = [d.get("content") or "" for d in deltas(events)]
    assert "".join(pieces).startswith("<think>\nOkay")
    assert any(p.endswith("<thi") for p in pieces) and any(p.endswith("</thi") for p in pieces)
    assert not any("<think>" in p or "</think>" in p for p in pieces)


def test_models_without_thinking_send_no_reasoning(emulator):
    reply = client(emulator).chat.completions.create(model="qwen72b-int8", messages=ASK)
    message = reply.choices[0].message
    assert message.reasoning_content is None and message.content.startswith("You asked: *")
    assert reply.usage.prompt_tokens_details is None and reply.choices[0].stop_reason is None


# -- thinking switch ----------------------------------------------------------------

def test_hard_switch_turns_thinking_off(emulator):
    off = {"chat_template_kwargs": {"enable_thinking": False}}
    sdk = client(emulator)
    reply = sdk.chat.completions.create(model="qwen3-32b", messages=ASK, extra_body=off)
    assert reply.choices[0].message.reasoning is None
    assert reply.choices[0].message.content.startswith("You asked")
    inline = sdk.chat.completions.create(model="qwen3-30b-a3b", messages=ASK, extra_body=off)
    assert inline.choices[0].message.content.startswith("<think>\n\n</think>\n\nYou asked")


def test_soft_switch_is_stateful_and_last_one_wins(emulator):
    sdk = client(emulator)
    turns = [{"role": "user", "content": "Hello there /no_think"},
             {"role": "assistant", "content": "Hi."},
             {"role": "user", "content": "Now tell me about rivers."}]
    off = sdk.chat.completions.create(model="qwen3-32b", messages=turns).choices[0].message
    assert off.reasoning is None and off.content.startswith("You asked: *Now tell me about rivers.*")
    turns += [{"role": "assistant", "content": "Rivers flow."},
              {"role": "user", "content": "And lakes? /think"}]
    on = sdk.chat.completions.create(model="qwen3-32b", messages=turns).choices[0].message
    assert on.reasoning.startswith("Okay")


def test_switch_is_ignored_by_models_that_cannot_think(emulator):
    reply = client(emulator).chat.completions.create(
        model="qwq-32b", messages=ASK, extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    assert "</think>" in reply.choices[0].message.content


# -- reply content, lengths, finish ---------------------------------------------------

def test_stream_and_non_stream_agree(emulator):
    sdk = client(emulator)
    whole = sdk.chat.completions.create(model="qwen3-32b", messages=ASK)
    events = sse(emulator, "qwen3-32b", stream_options={"include_usage": True})
    assert joined(events, "content") == whole.choices[0].message.content
    assert joined(events, "reasoning") == whole.choices[0].message.reasoning
    assert events[-2]["usage"]["completion_tokens"] == whole.usage.completion_tokens


def test_same_request_same_reply_and_temperature_changes_it(emulator):
    sdk = client(emulator)
    first = sdk.chat.completions.create(model="qwen3-32b", messages=ASK, temperature=0.7)
    second = sdk.chat.completions.create(model="qwen3-32b", messages=ASK, temperature=0.7)
    other = sdk.chat.completions.create(model="qwen3-32b", messages=ASK, temperature=0.2)
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.choices[0].message.reasoning == second.choices[0].message.reasoning
    assert first.id != second.id
    assert other.choices[0].message.content != first.choices[0].message.content


def test_answer_quotes_the_question_says_it_is_placeholder_and_is_markdown(emulator):
    text = client(emulator).chat.completions.create(
        model="qwen72b-awq", messages=ASK).choices[0].message.content
    assert text.startswith("You asked: *What is the weather in Paris today? Should I pack an umbrella?*")
    blocks = text.split("\n\n")
    assert len(blocks) >= 5
    assert blocks[1] == "*Placeholder text from the built-in emulator, a test double: no model wrote this.*"
    assert blocks[2].startswith(("#", "**"))
    assert re.search(r"^(- |1\. )", text, re.M)


def test_the_placeholder_text_stays_on_the_question_s_subject(emulator):
    text = client(emulator).chat.completions.create(
        model="qwen72b-awq", messages=[{"role": "user", "content": "How do I make bread rise?"}]).choices[0].message.content
    prose = text.split("\n\n", 2)[2]
    words = set(re.findall(r"[a-z]+", prose.lower()))
    assert "bread" in words, "the question's own word"
    assert words & {"flour", "dough", "yeast", "oven", "bake"}, "words of its topic"
    assert not words & {"bond", "goal", "galaxy", "inflation"}, "no other topic's words"


def test_long_answer_has_exact_length_and_valid_markdown(emulator):
    reply = client(emulator).chat.completions.create(
        model="qwen72b-int8", messages=ASK, extra_headers={"X-Emulator": "answer_tokens=20000"})
    text = reply.choices[0].message.content
    assert reply.usage.completion_tokens == 20000
    assert text.count("```") % 2 == 0 and text.count("```python") > 20
    assert len(re.findall(r"^#{2,3} ", text, re.M)) > 20 and len(re.findall(r"^\|---", text, re.M)) > 20
    assert len(set(text.split("\n\n"))) > 0.9 * len(text.split("\n\n"))


def test_full_speed_stream_of_24000_tokens(emulator):
    # Its speed is a benchmark row (make bench), not a test: here only the shape counts.
    events = sse(emulator, "qwen72b-int8", emulate="answer_tokens=24000",
                 stream_options={"include_usage": True})
    assert events[-2]["usage"]["completion_tokens"] == 24000
    assert len(deltas(events)) == 24001  # the role chunk, then one token per chunk


def test_chunk_tokens_groups_tokens_without_changing_text(emulator):
    one = sse(emulator, "qwen3-32b")
    five = sse(emulator, "qwen3-32b", emulate="chunk_tokens=5")
    assert joined(one, "content") == joined(five, "content")
    assert joined(one, "reasoning") == joined(five, "reasoning")
    assert len(five) < len(one) / 3


def test_finish_reason_in_a_separate_final_chunk(emulator):
    events = sse(emulator, "qwen72b-int8", emulate="finish=separate")
    last, before = events[-2]["choices"][0], events[-3]["choices"][0]
    assert last["delta"] == {} and last["finish_reason"] == "stop"
    assert before["finish_reason"] is None and before["delta"]["content"]


def test_usage_chunk_only_when_asked(emulator):
    plain = sse(emulator, "qwen72b-int8")
    assert all(e["choices"] for e in plain[:-1])
    asked = sse(emulator, "qwen72b-int8", stream_options={"include_usage": True})
    usage = asked[-2]
    assert usage["choices"] == [] and usage["usage"]["prompt_tokens"] > 0
    assert usage["usage"]["prompt_tokens_details"] is None
    assert "reasoning_tokens" not in usage["usage"]


def test_max_tokens_stops_with_length_and_counts_reasoning(emulator):
    reply = client(emulator).chat.completions.create(model="qwen3-32b", messages=ASK, max_tokens=30)
    assert reply.choices[0].finish_reason == "length"
    assert reply.usage.completion_tokens == 30
    # vLLM sends null, not "", when the model wrote no answer text.
    assert reply.choices[0].message.reasoning and reply.choices[0].message.content is None


@pytest.mark.parametrize("reason", ["repetition", "abort", "content_filter"])
def test_any_finish_reason_can_be_forced(emulator, reason):
    events = sse(emulator, "qwen72b-int8", emulate=f"finish_reason={reason}")
    assert events[-2]["choices"][0]["finish_reason"] == reason


def test_context_overflow_is_vllms_400(emulator):
    long = [{"role": "user", "content": "word " * 15_000}]  # ~18,750 tokens
    with pytest.raises(openai.BadRequestError) as caught:
        client(emulator).chat.completions.create(model="qwen72b-int8", messages=long, max_tokens=1000)
    error = caught.value.body
    assert re.fullmatch(
        r"This model's maximum context length is 16384 tokens\. However, you requested (\d+) tokens "
        r"\((\d+) in the messages, 1000 in the completion\)\. Please reduce the length of the messages "
        r"or completion\.", error["message"])
    assert error["type"] == "BadRequestError" and error["param"] == "messages" and error["code"] == 400
    client(emulator).chat.completions.create(model="qwen3-32b", messages=long, max_tokens=1000)


def test_cjk_model_name_works_in_json_and_urls(emulator):
    sdk = client(emulator)
    name = "qwen32b-awq(试用)"
    reply = sdk.chat.completions.create(model=name, messages=ASK, stream=True)
    assert {chunk.model for chunk in reply} == {name}
    assert sdk.models.retrieve(name).id == name
    assert emulator.requests[-1]["path"] == f"/v1/models/{name}"


# -- tools ------------------------------------------------------------------------------

def tool_fragments(events) -> list[list[dict]]:
    return [d["tool_calls"] for d in deltas(events) if d.get("tool_calls")]


def assemble(fragments) -> dict[int, dict]:
    calls: dict[int, dict] = {}
    for entries in fragments:
        for entry in entries:
            call = calls.setdefault(entry["index"], {"id": None, "name": None, "arguments": ""})
            call["id"] = call["id"] or entry.get("id")
            function = entry.get("function") or {}
            call["name"] = call["name"] or function.get("name")
            call["arguments"] += function.get("arguments") or ""
    return calls


def test_vllm_tool_call_fragments(emulator):
    events = sse(emulator, "qwen72b-awq", tools=[WEATHER])
    fragments = tool_fragments(events)
    head, first_args = fragments[0]
    assert head == {"index": 0, "id": head["id"], "type": "function", "function": {"name": "get_weather"}}
    assert head["id"].startswith("chatcmpl-tool-")
    assert set(first_args) == {"index", "function"} and first_args["function"]["arguments"]
    assert len(fragments) > 3 and all(len(f) == 1 and set(f[0]) == {"index", "function"}
                                      for f in fragments[1:])
    call = assemble(fragments)[0]
    assert json.loads(call["arguments"]) == {"location": "Paris", "unit": "celsius"}
    assert events[-2]["choices"][0]["finish_reason"] == "tool_calls"
    assert joined(events, "content") == ""


def test_sglang_tool_call_fragments_carry_nulls(emulator):
    fragments = tool_fragments(sse(emulator, "qwq-32b-128k", tools=[WEATHER]))
    assert fragments[0] == [{"index": 0, "id": fragments[0][0]["id"], "type": "function",
                             "function": {"name": "get_weather", "arguments": ""}}]
    for entries in fragments[1:]:
        (entry,) = entries
        assert entry["id"] is None and entry["type"] is None and entry["function"]["name"] is None
    assert json.loads(assemble(fragments)[0]["arguments"])["location"] == "Paris"


def test_interleaved_tool_calls_alternate_by_index(emulator):
    events = sse(emulator, "qwen3-32b", tools=[WEATHER, TIME], emulate="tools=interleaved; calls=2")
    order = [entries[0]["index"] for entries in tool_fragments(events)]
    assert order[:4] == [0, 1, 0, 1]
    calls = assemble(tool_fragments(events))
    assert [c["name"] for c in calls.values()] == ["get_weather", "get_time"]
    assert json.loads(calls[1]["arguments"]) == {"city": "Paris", "utc": True}


def test_non_stream_tool_calls_and_reasoning_first(emulator):
    reply = client(emulator).chat.completions.create(model="qwen3-32b", messages=ASK, tools=[WEATHER])
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    assert "get_weather" in choice.message.reasoning
    (call,) = choice.message.tool_calls
    assert call.type == "function" and call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "Paris", "unit": "celsius"}


def test_tool_named_in_the_prompt_is_called_first_and_calls_repeat(emulator):
    ask = [{"role": "user", "content": "Use get_time for Tokyo and Lima please"}]
    reply = client(emulator).chat.completions.create(
        model="qwen72b-awq", messages=ask, tools=[WEATHER, TIME], extra_headers={"X-Emulator": "calls=3"})
    calls = reply.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_time", "get_weather", "get_time"]
    assert [json.loads(c.function.arguments)["city"] for c in (calls[0], calls[2])] == ["Tokyo", "Lima"]
    assert len({c.id for c in calls}) == 3


def tool(name: str, properties: dict, required: list[str]) -> dict:
    return {"type": "function", "function": {"name": name, "parameters": {
        "type": "object", "properties": properties, "required": required}}}


@pytest.mark.parametrize("prompt, spec, expected", [
    ("What is 2 + 3?", tool("add", {"a": {"type": "integer"}, "b": {"type": "integer"}}, ["a", "b"]),
     {"a": 2, "b": 3}),
    ("Average 3, 5.5 and 10 please.", tool("mean", {"values": {"type": "array", "items": {"type": "number"}}},
                                          ["values"]), {"values": [3, 5.5, 10]}),
    ('Look up "blue whale" in the encyclopedia.', tool("lookup", {"query": {"type": "string"}}, ["query"]),
     {"query": "blue whale"}),
    ("What is the max score of the class?",
     tool("stat", {"statistic": {"type": "string", "enum": ["mean", "min", "max"]}}, ["statistic"]),
     {"statistic": "max"}),
    ("Weather in Lyon in fahrenheit?", tool("get_weather", {"location": {"type": "string"}, "unit": {
        "type": "string", "enum": ["celsius", "fahrenheit"]}}, ["location"]), {"location": "Lyon", "unit": "fahrenheit"}),
])
def test_arguments_are_read_from_the_prompt(emulator, prompt, spec, expected):
    reply = client(emulator).chat.completions.create(
        model="qwen72b-awq", messages=[{"role": "user", "content": prompt}], tools=[spec])
    assert json.loads(reply.choices[0].message.tool_calls[0].function.arguments) == expected


def test_bad_args_gives_invalid_json(emulator):
    reply = client(emulator).chat.completions.create(
        model="qwen72b-awq", messages=ASK, tools=[WEATHER], extra_headers={"X-Emulator": "bad_args=1"})
    with pytest.raises(json.JSONDecodeError):
        json.loads(reply.choices[0].message.tool_calls[0].function.arguments)


def test_tools_refused_by_model_without_function_calling(emulator):
    with pytest.raises(openai.BadRequestError) as caught:
        client(emulator).chat.completions.create(model="qwen72b-int8", messages=ASK, tools=[WEATHER])
    assert '"auto" tool choice requires --enable-auto-tool-choice' in caught.value.message
    reply = client(emulator).chat.completions.create(
        model="qwen72b-int8", messages=ASK, tools=[WEATHER], tool_choice="none")
    assert reply.choices[0].finish_reason == "stop"


def test_tool_results_are_answered_in_text(emulator):
    sdk = client(emulator)
    first = sdk.chat.completions.create(model="qwen3-32b", messages=ASK, tools=[WEATHER])
    call = first.choices[0].message.tool_calls[0]
    turns = ASK + [first.choices[0].message.model_dump(exclude_none=True),
                   {"role": "tool", "tool_call_id": call.id, "content": "18 °C, light rain, wind 12 km/h"}]
    reply = sdk.chat.completions.create(model="qwen3-32b", messages=turns, tools=[WEATHER])
    assert reply.choices[0].finish_reason == "stop"
    assert "**get_weather**: 18 °C, light rain, wind 12 km/h" in reply.choices[0].message.content


# -- images -----------------------------------------------------------------------------

def image_message(data: bytes, kind: str = "png") -> list[dict]:
    url = f"data:image/{kind};base64," + base64.b64encode(data).decode()
    return [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}},
                                         {"type": "text", "text": "What is in this picture?"}]}]


def test_vision_model_reads_image_sizes(emulator):
    image = png(64, 48)
    jpeg = (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
            b"\xff\xc0\x00\x11\x08\x01\xe0\x02\x80\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01\xff\xd9")
    messages = image_message(image)
    messages[0]["content"].insert(1, image_message(jpeg, "jpeg")[0]["content"][0])
    reply = client(emulator).chat.completions.create(model="qwen25-vl-7b", messages=messages)
    text = reply.choices[0].message.content
    assert text.startswith(f"I see 2 images: 64×48 PNG ({len(image):,} bytes), 640×480 JPEG (")
    assert "You asked: *What is in this picture?*" in text
    assert reply.usage.prompt_tokens >= 3 * 2 + 23 * 18  # one token per 28×28 patch


def test_text_model_refuses_images(emulator):
    with pytest.raises(openai.BadRequestError, match="does not support image input"):
        client(emulator).chat.completions.create(model="qwen3-32b", messages=image_message(png(4, 4)))


@pytest.mark.parametrize("url", ["data:image/png;base64,@@@not-base64@@@", "data:image/png,plain",
                                 "https://example.com/cat.png",
                                 "data:image/png;base64," + base64.b64encode(b"not an image").decode()])
def test_malformed_image_urls_are_refused(emulator, url):
    messages = [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}]
    with pytest.raises(openai.BadRequestError, match="image"):
        client(emulator).chat.completions.create(model="qwen25-vl-7b", messages=messages)


def test_a_multi_turn_request_says_which_history_arrived(emulator):
    turns = [{"role": "system", "content": "Be brief."},
             {"role": "user", "content": "What is a p-value?"}, {"role": "assistant", "content": "A probability."},
             {"role": "user", "content": "And a *confidence* interval?"}, {"role": "assistant", "content": "A range."},
             {"role": "user", "content": "Which should I report?"}]
    text = client(emulator).chat.completions.create(model="qwen72b-awq", messages=turns).choices[0].message.content
    assert text.startswith("You asked: *Which should I report?*\n\n"
                           "Earlier in this conversation: 2 questions, the last: *And a \\*confidence\\* interval?*")
    single = client(emulator).chat.completions.create(model="qwen72b-awq", messages=turns[-1:])
    assert "Earlier in this conversation" not in single.choices[0].message.content


@pytest.mark.parametrize("prompt, fence", [("List three primes as JSON.", "```json\n{"),
                                           ("Make an HTML table of fruits.", "```html\n<table>"),
                                           ("Write a Python function for the mean.", "```python\n")])
def test_asked_for_json_html_or_code_the_model_writes_a_fenced_block(emulator, prompt, fence):
    text = client(emulator).chat.completions.create(
        model="qwen72b-awq", messages=[{"role": "user", "content": prompt}]).choices[0].message.content
    assert fence in text


def test_json_records_is_one_fenced_array_of_whole_records_of_about_n_tokens(emulator):
    events = sse(emulator, "qwen72b-int8", emulate="answer_tokens=5000; shape=json-records; chunk_tokens=64",
                 stream_options={"include_usage": True})
    text = joined(events, "content")
    assert text.startswith("```json\n[\n") and text.endswith("\n]\n```")
    records = json.loads(text[len("```json\n"):-len("```")])
    assert [r["id"] for r in records] == list(range(1, len(records) + 1))
    assert set(records[0]) == {"id", "item", "category", "value", "count", "active"}
    assert 5000 <= events[-2]["usage"]["completion_tokens"] < 5050
    assert 5000 / 100 <= len(deltas(events)) <= 5000 / 64 + 3, "whole records, grouped by chunk_tokens"
