"""The peers' own reasoning and tool-parser cases (tests/corpus/), streamed in every server shape.

Each case is a model's raw output and how vLLM, SGLang or llama.cpp split it. It is sent
as a server would send it:
- with no reasoning parser: inline, with the opening tag or without it (the template opened it);
- with a parser: `reasoning` (vLLM since 2026), `reasoning_content` (older vLLM), or SGLang's
  deltas with explicit nulls.

Each shape is cut three ways (one character at a time, at random 1-7, whole). The client
runs with thinking on, off and left at its default, for a model of the case's family. The
Reply must come out the same every time: the peer's split, read with our written rules.

1. White space: no newlines before the text, no white space after it; a missing field is "".
2. A reply that finished with reasoning and no answer shows the reasoning as the answer
   (see jupyter_llm/core/think.py). Cut at `length`, it stays reasoning.
3. Cases where a peer disagrees with what a notebook user wants are in OVERRIDES, each with
   its reason.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from jupyter_llm.core.catalog import describe
from jupyter_llm.core.request import ChatRequest
from jupyter_llm.core.stream import ReplyBuilder, events

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
REASONING = json.loads((CORPUS / "reasoning.json").read_text(encoding="utf-8"))["cases"]
TOOL_CALLS = json.loads((CORPUS / "tool_calls.json").read_text(encoding="utf-8"))["cases"]

#: A model of the case's kind, to run the client's thinking settings against: one whose chat
#: template opens the think block when the peer treated the output as already thinking
#: (``forced_open``), a hybrid Qwen3 (it writes both tags itself) otherwise.
OPENING_MODEL = {"qwen3": "qwen3-30b-a3b-thinking-2507", "qwq": "qwq-32b"}
DEFAULT_OPENING_MODEL = "deepseek-r1"
HYBRID_MODEL = "qwen3-32b"
#: Families whose markers are not think tags: their servers' parsers split them, so only the
#: parsed shapes apply (the client reads <think>, not "Here is my thought process:").
PARSER_ONLY = {"granite", "hunyuan_a13b", "kimi"}
SHAPES = ("inline", "inline-open", "reasoning", "reasoning_content", "sglang")
THINKING = (True, False, None)

#: In an override: the text as the model wrote it after </think> (or all of it, when kept whole).
AFTER_THINK = object()
AS_SENT = object()

# Reasons, used below.
_SPLIT_ANYWAY = ("llama.cpp with reasoning_format=none leaves the tags in the content; the client "
                 "splits them, so the user sees the same reply whatever the server's setting")
_NO_OPEN_TAG = "llama.cpp keeps the opening tag in the reasoning; the tag is markup, not thought"
_NO_TOOLS = ("the peer read a tool call out of the text; this run offers no tools, so the call stays "
             "text (with tools offered, the tool-call cases below read it)")
_TOOL_ENDS = ("vLLM ends reasoning at <tool_call> inside an unclosed think block, llama.cpp keeps it as "
              "reasoning; ending it lets the call run")

#: case id -> (reasoning, content, why): where the client deliberately differs from the peer.
OVERRIDES = {
    "llamacpp-parser-tnk-forced_open-reasoning_in_content": (
        "", "Cogito</tnk>Ergo sum", "<tnk> is llama.cpp's test tag, not <think>: nothing to split"),
    "llamacpp-peg-content-format_none-with_tags": (
        "The user said hello, I must say hello back", "Hello", _SPLIT_ANYWAY),
    "llamacpp-peg-content-forced-format_none": (
        "The user said hello, I must say hello back", "Hello", _SPLIT_ANYWAY),
    "llamacpp-chat-hermes-format_only": ("I'm\nthinking", "Hello, world!\nWhat's up?", _SPLIT_ANYWAY),
    "llamacpp-chat-hermes-reasoning_in_content-md": (
        "I'm\nthinking", "Hello, world!\nWhat's up?\n```json\n{}```", _SPLIT_ANYWAY),
    "llamacpp-chat-hermes-unopened-not_forced": ("I'm\nthinking", "Hello, world!\nWhat's up?", _SPLIT_ANYWAY),
    "llamacpp-chat-deepseek_r1-format_only": ("I'm\nthinking", "Hello, world!\nWhat's up?", _SPLIT_ANYWAY),
    "llamacpp-chat-deepseek_r1-unopened-not_forced": ("I'm\nthinking", "Hello, world!\nWhat's up?", _SPLIT_ANYWAY),
    "llamacpp-chat-deepseek_r1-forced-open-with-think-tag": ("I'm\nthinking", "Hello, world!\nWhat's up?",
                                                             _NO_OPEN_TAG),
    "llamacpp-chat-deepseek_r1-tool_call-thoughts-unparsed": (
        "I'm\nthinking", AFTER_THINK, _SPLIT_ANYWAY + "; the DeepSeek tool-call tokens that follow stay text"),
    "llamacpp-chat-granite-format_only": (
        "I'm\nthinking", "<response>Hello, world!\nWhat's up?</response>",
        _SPLIT_ANYWAY + "; Granite's <response> tags are not ours to read"),
    "llamacpp-parser-tnk-format_none": ("", "<tnk>Cogito</tnk>Ergo sum", "<tnk> is not <think>"),
    "llamacpp-parser-tnk-format_deepseek": ("", "<tnk>Cogito</tnk>Ergo sum", "<tnk> is not <think>"),
    "llamacpp-parser-tnk-unopened-format_none": ("", "Cogito</tnk>Ergo sum", "<tnk> is not <think>"),
    "llamacpp-parser-tnk-forced_open": ("", "Cogito</tnk>Ergo sum", "<tnk> is not <think>"),
    "llamacpp-chat-hermes-tool-call-inside-open-think": ("", "<tool_call>nah uhg</tool_call>", _TOOL_ENDS),
    "llamacpp-peg-tools-forced-single": (
        "I must get the weather in New York",
        '<tool_call>[{"name": "get_current_weather", "arguments": {"location": "New York City, NY", '
        '"unit": "fahrenheit"}}]</tool_call>', _NO_TOOLS),
    "llamacpp-peg-tools-forced-parallel": (
        "I must get the weather in New York and San Francisco and a 3 day forecast of each.",
        AFTER_THINK, _NO_TOOLS),
    "llamacpp-chat-deepseek_r1-tool_call-with-thoughts": ("I'm\nthinking", AFTER_THINK,
                                                          _NO_TOOLS + "; DeepSeek's tool-call tokens are text here"),
    "llamacpp-chat-hermes-qwq-forced-tool_call": (
        "I'm\nthinking", '<tool_call>{"name": "special_function", "arguments": {"arg1": 1}}</tool_call>', _NO_TOOLS),
}


def _case_shapes(case) -> list[str]:
    if case["family"] in PARSER_ONLY:
        return ["reasoning", "reasoning_content", "sglang"]
    shapes = ["inline", "reasoning", "reasoning_content", "sglang"]
    if case["output"].lstrip().startswith("<think>"):
        shapes.insert(1, "inline-open")
    return shapes


def _usable(case) -> bool:
    # llama.cpp's "partial" cases are a parser's state mid-stream, not a reply's final split.
    return case["mode"] != "partial"


def _tidy(text) -> str:
    return (text or "").lstrip("\r\n").rstrip()


def peer_split(case) -> tuple:
    """The case's (reasoning, content): the peer's, or the override's with its reason."""
    if case["id"] not in OVERRIDES:
        return case["expected"].get("reasoning"), case["expected"].get("content")
    reasoning, content, _ = OVERRIDES[case["id"]]
    if content is AFTER_THINK:
        content = case["output"].split("</think>", 1)[1]
    return reasoning, content


def expected(case) -> tuple[str, str]:
    """The Reply a notebook user gets: the peer's split, read with the rules in the docstring."""
    reasoning, content = peer_split(case)
    reasoning, content = _tidy(reasoning), _tidy(content)
    if reasoning and not content:
        return "", reasoning
    return reasoning, content


def wire(case, shape: str) -> list[tuple[str, str]]:
    """(field, text) pieces a server in ``shape`` sends for the case, before chunking."""
    output = case["output"]
    if shape == "inline":
        return [("content", output)]
    if shape == "inline-open":
        return [("content", output.lstrip()[len("<think>"):])]
    reasoning, content = peer_split(case)
    field = "reasoning" if shape == "reasoning" else "reasoning_content"
    return [(field, reasoning or ""), ("content", content or "")]


def chunked(pieces, how: str, seed: int) -> list[dict]:
    rng = random.Random(seed)
    deltas = []
    for field, text in pieces:
        i = 0
        while i < len(text):
            size = 1 if how == "char" else len(text) if how == "whole" else rng.randint(1, 7)
            deltas.append({field: text[i:i + size]})
            i += size
    return deltas


def stream(deltas: list[dict], shape: str, finish: str) -> list[dict]:
    def chunk(delta, reason=None):
        if shape == "sglang":
            delta = {"role": None, "content": None, "reasoning_content": None, "tool_calls": None, **delta}
        return {"id": "c", "object": "chat.completion.chunk", "model": "m",
                "choices": [{"index": 0, "delta": delta, "finish_reason": reason, "logprobs": None}]}

    return [chunk({"role": "assistant", "content": ""})] + [chunk(d) for d in deltas] + [chunk({}, finish)]


def reply_of(chunks, *, opens_thinking: bool, tools: bool = False):
    builder = ReplyBuilder("m")
    for event in events(chunks, opens_thinking=opens_thinking, tools=tools):
        builder.add(event)
    return builder.finish()


def model_of(case, shape: str = "inline") -> str:
    if case.get("forced_open") or shape == "inline-open":
        return OPENING_MODEL.get(case["family"], DEFAULT_OPENING_MODEL)
    return HYBRID_MODEL


def opens(model: str, think) -> bool:
    """What the client believes of ``model`` with thinking ``think`` (True, False, None: its default)."""
    return ChatRequest(messages=[], model=model, info=describe(model), think=think).opens_thinking


CASES = [c for c in REASONING if _usable(c)]


def test_the_corpus_holds_enough_distinct_peer_cases():
    sources = {c["source"]["repo"] for c in CASES}
    assert len({c["id"] for c in CASES}) >= 60 and len(CASES) == len({c["id"] for c in CASES})
    assert {"vllm-project/vllm", "sgl-project/sglang", "ggml-org/llama.cpp"} <= sources


def test_the_client_believes_what_each_family_does_with_its_thinking_settings():
    assert [opens("qwq-32b", t) for t in THINKING] == [True, True, True], "QwQ thinks whatever the switch says"
    assert [opens("qwen3-32b", t) for t in THINKING] == [False, False, False], "Qwen3 writes both tags itself"
    assert [opens("qwen3-30b-a3b-thinking-2507", t) for t in THINKING] == [True, True, True]
    assert opens("Qwen3-235B-A22B-Instruct-2507", None) is False and opens("deepseek-r1", None) is True


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_every_shape_chunking_and_thinking_setting_gives_the_same_reply(case):
    want = expected(case)
    seed = sum(map(ord, case["id"]))
    for shape in _case_shapes(case):
        for how in ("char", "random", "whole"):
            deltas = chunked(wire(case, shape), how, seed)
            for think in THINKING:
                reply = reply_of(stream(deltas, shape, "stop"), opens_thinking=opens(model_of(case, shape), think))
                got = (reply.reasoning, reply.content)
                assert got == want, f"{shape}, {how} chunks, thinking {think}: {got!r} != {want!r}"


@pytest.mark.parametrize("case", [c for c in CASES if not expected(c)[0] and expected(c)[1]
                                  and _tidy(peer_split(c)[0])
                                  and (c["forced_open"] or c["output"].lstrip().startswith("<think>"))],
                         ids=lambda c: c["id"])
def test_cut_at_length_while_thinking_keeps_the_reasoning(case):
    reasoning = _tidy(peer_split(case)[0])
    for shape in _case_shapes(case):
        deltas = chunked(wire(case, shape), "random", 7)
        reply = reply_of(stream(deltas, shape, "length"), opens_thinking=opens(model_of(case, shape), None))
        assert (reply.reasoning, reply.content) == (reasoning, ""), shape


# -- tool calls in text (servers without a tool parser) -------------------------------------

#: case id -> (tool calls as (name, arguments), content, why) where the client differs on purpose.
TOOL_OVERRIDES = {
    "vllm-hermes-nonstream-no-tool-call": ([], AS_SENT, None, "text without a call is the answer, as vLLM streams it"),
    "vllm-hermes-nonstream-invalid-json": ([], AS_SENT, None, "a call that never closes is kept as text: nothing is lost"),
    "vllm-hermes-nonstream-until-eos": ([], AS_SENT, None, "a call that never closes is kept as text, even when it parses"),
    "sglang-qwen25-bare-opener-at-end": ([], AS_SENT, None, "the text is kept as sent"),
    "sglang-qwen25-truncated-arguments": ([], AS_SENT, None, "a call cut short is kept as text: nothing is lost"),
    "sglang-qwen25-opener-without-newline": ([], AS_SENT, None, "an empty object names no function"),
    "llamacpp-hermes-function-tag": ([], AS_SENT, None, "llama.cpp's <function=> form is not hermes"),
    "llamacpp-hermes-bare-json-after-text": (
        [], AS_SENT, None, "bare JSON in an answer stays text: reading it as a call would run what a model only quoted"),
    "llamacpp-hermes-tool-call-inside-open-think": ([], "<tool_call>nah uhg</tool_call>", "", _TOOL_ENDS),
}


def _tool_expected(case):
    """(tool calls as (name, arguments), reasoning or None when not asserted, content)."""
    if case["id"] in TOOL_OVERRIDES:
        calls, content, reasoning, _ = TOOL_OVERRIDES[case["id"]]
        content = case["output"] if content is AS_SENT else content
    else:
        calls = [(c["name"], c["arguments"]) for c in case["expected"]["tool_calls"]]
        content, reasoning = case["expected"].get("content"), case["expected"].get("reasoning")
    return calls, None if reasoning is None else _tidy(reasoning), _tidy(content)


@pytest.mark.parametrize("case", TOOL_CALLS, ids=[c["id"] for c in TOOL_CALLS])
def test_hermes_tool_calls_in_the_text_become_tool_calls(case):
    calls, reasoning, content = _tool_expected(case)
    for how in ("char", "random", "whole"):
        deltas = chunked([("content", case["output"])], how, 3)
        reply = reply_of(stream(deltas, "inline", "tool_calls" if calls else "stop"),
                         opens_thinking="</think>" in case["output"] and "<think>" not in case["output"],
                         tools=True)
        got = [(c.name, c.arguments if c.arguments is not None else c.arguments_json) for c in reply.tool_calls]
        assert got == calls, how
        assert reply.content == content, how
        if reasoning is not None:
            assert reply.reasoning == reasoning, how
