"""Chunk -> event -> Reply assembly, on chunks shaped as vLLM and SGLang send them."""
from __future__ import annotations

import json

import pytest
from jupyter_llm.core.events import ContentDelta, Finished, ReasoningDelta, ToolCallDelta, UsageReport
from jupyter_llm.core.stream import ReplyBuilder, events


def chunk(delta=None, finish=None, usage=None, choices=True):
    data = {"id": "c", "object": "chat.completion.chunk", "created": 0, "model": "m", "choices": []}
    if choices:
        data["choices"] = [{"index": 0, "delta": delta or {}, "finish_reason": finish, "logprobs": None,
                            "matched_stop": None}]
    if usage:
        data["usage"] = usage
    return data


def assemble(chunks, opens_thinking=False, tools=False):
    builder = ReplyBuilder("m")
    for event in events(chunks, opens_thinking=opens_thinking, tools=tools):
        builder.add(event)
    return builder.finish()


@pytest.mark.parametrize("field", ["reasoning", "reasoning_content"])
def test_reasoning_field_is_read_under_either_name(field):
    reply = assemble([
        chunk({"role": "assistant", field: "Let me "}),
        chunk({field: "think."}),
        chunk({"content": "Four.", field: None}),
        chunk({}, finish="stop"),
    ])
    assert (reply.reasoning, reply.content, reply.finish_reason) == ("Let me think.", "Four.", "stop")


def test_reasoning_field_wins_over_a_thinking_expectation():
    # A server with a reasoning parser sends the answer in content even for a thinking model.
    reply = assemble([chunk({"reasoning_content": "hm"}), chunk({"content": "A"}), chunk({}, "stop")],
                     opens_thinking=True)
    assert (reply.reasoning, reply.content) == ("hm", "A")


def test_tool_calls_vllm_shape_name_and_arguments_as_two_entries():
    reply = assemble([
        chunk({"tool_calls": [
            {"index": 0, "id": "chatcmpl-tool-1", "type": "function", "function": {"name": "get_current_weather"}},
            {"index": 0, "function": {"arguments": '{"location": '}},
        ]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '"Paris", "unit": "celsius"}'}}]}),
        chunk({}, finish="tool_calls"),
    ])
    (call,) = reply.tool_calls
    assert (call.id, call.name, call.arguments) == ("chatcmpl-tool-1", "get_current_weather",
                                                    {"location": "Paris", "unit": "celsius"})
    assert json.loads(call.arguments_json) == call.arguments
    assert reply.finish_reason == "tool_calls" and reply.content == ""


def test_tool_calls_sglang_nulls_and_interleaving():
    reply = assemble([
        chunk({"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "b", "type": "function", "function": {"name": "g", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "id": None, "type": None, "function": {"name": None, "arguments": '{"x"'}}]}),
        chunk({"tool_calls": [{"index": 1, "id": None, "type": None, "function": {"name": None, "arguments": '{"y": 2}'}}]}),
        chunk({"tool_calls": [{"index": 0, "id": None, "type": None, "function": {"name": None, "arguments": ': 1}'}}]}),
        chunk({}, finish="tool_calls"),
    ])
    assert [(c.id, c.name, c.arguments) for c in reply.tool_calls] == [("a", "f", {"x": 1}), ("b", "g", {"y": 2})]


def test_invalid_tool_arguments_are_kept_raw_with_a_reason():
    reply = assemble([
        chunk({"tool_calls": [{"index": 0, "id": "a", "type": "function", "function": {"name": "f", "arguments": '{"x": '}}]}),
        chunk({}, finish="tool_calls"),
    ])
    (call,) = reply.tool_calls
    assert call.arguments is None and call.arguments_json == '{"x": ' and "not valid JSON" in call.arguments_error


def test_unknown_finish_reason_passes_through_and_usage_chunk_is_read():
    reply = assemble([
        chunk({"content": "la la"}),
        chunk({}, finish="repetition"),
        chunk(choices=False, usage={"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10,
                                    "prompt_tokens_details": None, "reasoning_tokens": 2}),
    ])
    assert reply.finish_reason == "repetition" and reply.complete
    assert (reply.usage.prompt_tokens, reply.usage.completion_tokens, reply.usage.reasoning_tokens) == (7, 3, 2)


def test_stream_without_finish_reason_is_incomplete():
    reply = assemble([chunk({"content": "partial"})])
    assert reply.content == "partial" and not reply.complete and "INCOMPLETE" in reply.summary()


def test_event_order_and_types():
    got = list(events([chunk({"reasoning": "r"}), chunk({"content": "c"}), chunk({}, "stop"),
                       chunk(choices=False, usage={"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3})]))
    assert [type(e) for e in got] == [ReasoningDelta, ContentDelta, Finished, UsageReport]


def test_ttft_and_rate_come_from_the_clock():
    ticks = iter([0.0, 0.5, 2.5])
    builder = ReplyBuilder("m", clock=lambda: next(ticks))
    builder.add(ContentDelta("x"))
    builder.add(ToolCallDelta(index=0, id="a", name="f"))
    builder.add(UsageReport(__import__("jupyter_llm.core.events").core.events.Usage(1, 100, 101)))
    builder.add(Finished("stop"))
    reply = builder.finish()
    assert reply.ttft == 0.5 and reply.elapsed == 2.5 and reply.tokens_per_second == 50


def test_the_usage_line_groups_the_digits_of_large_counts():
    reply = assemble([
        chunk({"content": "x"}, finish="stop"),
        chunk(choices=False, usage={"prompt_tokens": 12, "completion_tokens": 1250017, "total_tokens": 1250029}),
    ])
    assert "12 → 1,250,017 tokens" in reply.summary()
