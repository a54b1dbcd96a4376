"""Telling a model's reasoning from its answer, whichever way the server sends them.

A server with a reasoning parser sends reasoning in its own field. One without a parser
sends it inline in ``content``: ``<think>…</think>answer``, often without the opening tag,
when the chat template put it in the prompt (QwQ, DeepSeek-R1, Qwen3 thinking-2507). A
gateway in between may be set up either way. The rules below give one reply for one model
output, in every one of those shapes. The conformance tests hold them to the reasoning
parsers of vLLM, SGLang and llama.cpp:

1. ``<think>`` at the start opens reasoning. ``</think>`` closes it; the first one closes it
   even with no opening tag (the template opened it). ``<tool_call>`` inside an unclosed
   block ends it too, as newer vLLM does.
2. Untagged text at the start is shown as reasoning while it streams if the model's
   template opens the block (``opens_thinking``), and as the answer otherwise. A later
   ``</think>`` revises the split. So does the end of the stream.
3. A reply that finished (any reason but ``length``) with reasoning and no answer and no
   tool call shows its reasoning as the answer. Otherwise the answer would be empty: a
   model that did not think, served with a parser that assumes it did, sends it all as
   reasoning. Cut at ``length`` while still thinking, the text stays reasoning, and a
   notice says so.
4. Newlines are dropped at the start of the reasoning and of the answer. Trailing white
   space goes when the reply is assembled.

With ``tools`` offered, a ``<tool_call>{json}</tool_call>`` block in the answer (a server
with no tool parser) becomes a tool call, as vLLM's hermes parser would make it.
"""
from __future__ import annotations

import json

from .events import ContentDelta, Event, Notice, ReasoningDelta, Revised, ToolCallDelta
from .pieces import Pieces

OPEN, CLOSE = "<think>", "</think>"
CALL_OPEN, CALL_CLOSE = "<tool_call>", "</tool_call>"
CUT_WHILE_THINKING = ("The reply was cut at max_tokens while the model was still thinking, so there is no "
                      "answer yet: raise max_tokens (--max-tokens N) and ask again.")


class Splitter:
    """Turns the ``content`` text of one choice into reasoning, answer and tool-call events.

    Example::

        splitter = Splitter(opens_thinking=True)
        splitter.feed("Two and two")           # [ReasoningDelta('Two and two')]
        splitter.feed(" is 4.</think>\\n\\n4") # [ReasoningDelta(' is 4.'), ContentDelta('4')]
        splitter.finish("stop")                # []
    """

    def __init__(self, opens_thinking: bool = False, *, tools: bool = False):
        self._opens = opens_thinking
        self._tools = tools
        self._phase = "start"  # start | think | answer
        self._closed = False  # reasoning ended: no later tag revises anything
        self._held = ""
        self._reasoning = Pieces()
        self._answer = Pieces()
        # Whether each holds more than white space: asked on every piece, so kept, never re-joined.
        self._reasoning_said = self._answer_said = False
        self._calls = 0
        self._structured_calls = False

    # -- what the stream tells the splitter -----------------------------------------------

    def server_reasoning(self, text: str) -> list[Event]:
        """A reasoning delta in its own field: the server splits, so content is the answer."""
        self._closed = True
        if self._phase != "answer":
            self._phase = "answer"
            self._held = ""
        self._reasoning.append(text)
        self._reasoning_said = self._reasoning_said or not text.isspace()
        return [ReasoningDelta(text)]

    def tool_call(self) -> list[Event]:
        """A tool call arrived in its own field: any reasoning block is over."""
        self._structured_calls = True
        events = self._flush_held()
        self._closed = True
        self._phase = "answer"
        return events

    def feed(self, text: str) -> list[Event]:
        out: list[Event] = []
        text, self._held = self._held + text, ""
        while text:
            if self._phase == "start":
                text = self._start(text)
            elif self._phase == "think":
                text = self._think(text, out)
            else:
                text = self._answer_text(text, out)
        return out

    def finish(self, reason: str | None) -> list[Event]:
        """At the end of the choice (its finish reason, or None when the stream just stopped)."""
        out = self._flush_held()
        if reason is None:
            return out
        if self._reasoning_said and not self._answer_said and not self._calls and not self._structured_calls:
            if reason == "length":
                out.append(Notice(CUT_WHILE_THINKING))
            else:
                self._reasoning, self._answer = Pieces(), Pieces(["".join(self._reasoning).lstrip("\r\n")])
                self._reasoning_said, self._answer_said = False, True
                out.append(Revised(reasoning="", content=self._answer[0]))
        return out

    # -- phases -------------------------------------------------------------------------

    def _start(self, text: str) -> str:
        stripped = text.lstrip()
        if not stripped or _partial(stripped, OPEN) or _partial(stripped, CLOSE):
            self._held = text
            return ""
        if stripped.startswith(OPEN):
            self._phase = "think"
            return stripped[len(OPEN):].lstrip("\r\n")
        if stripped.startswith(CLOSE):
            self._closed = True
            self._phase = "answer"
            return stripped[len(CLOSE):].lstrip("\r\n")
        self._phase = "think" if self._opens else "answer"
        return text.lstrip("\r\n")

    def _think(self, text: str, out: list[Event]) -> str:
        if not self._reasoning_said:
            text = text.lstrip("\r\n")
        end = _first(text, CLOSE, CALL_OPEN)
        if end is None:
            head, self._held = _hold_tail(text, CLOSE, CALL_OPEN)
            self._say_reasoning(head, out)
            return ""
        self._say_reasoning(text[:end], out)
        self._closed = True
        self._phase = "answer"
        if text.startswith(CLOSE, end):
            return text[end + len(CLOSE):].lstrip("\r\n") or ""
        return text[end:]

    def _answer_text(self, text: str, out: list[Event]) -> str:
        if not self._answer_said:
            text = text.lstrip("\r\n")
            if not text:
                return ""
        if not self._closed:
            end = text.find(CLOSE)
            if end >= 0:
                # The template opened a think block after all: what was shown as the answer was reasoning.
                self._reasoning = Pieces(["".join(self._answer) + text[:end]])
                self._answer = Pieces()
                self._reasoning_said, self._answer_said = bool(self._reasoning[0].strip()), False
                self._closed = True
                out.append(Revised(reasoning=self._reasoning[0].lstrip("\r\n"), content=""))
                return text[end + len(CLOSE):].lstrip("\r\n")
        if self._tools:
            return self._answer_with_calls(text, out)
        if not self._closed:
            text, self._held = _hold_tail(text, CLOSE)
        self._say_answer(text, out)
        return ""

    def _answer_with_calls(self, text: str, out: list[Event]) -> str:
        start = text.find(CALL_OPEN)
        if start < 0:
            head, self._held = _hold_tail(text, CALL_OPEN, *(() if self._closed else (CLOSE,)))
            self._say_answer(head, out)
            return ""
        self._say_answer(text[:start], out)
        end = text.find(CALL_CLOSE, start)
        if end < 0:
            self._held = text[start:]
            return ""
        body = text[start + len(CALL_OPEN):end]
        call = _parse_call(body)
        if call is None:
            self._say_answer(text[start:end + len(CALL_CLOSE)], out)
        else:
            name, arguments = call
            index = 1000 + self._calls  # apart from the indexes of calls in their own field
            out.append(ToolCallDelta(index=index, id=f"call_{self._calls}", name=name, arguments=arguments))
            self._calls += 1
        return text[end + len(CALL_CLOSE):]

    # -- helpers ------------------------------------------------------------------------

    def _say_reasoning(self, text: str, out: list[Event]) -> None:
        if text:
            self._reasoning.append(text)
            self._reasoning_said = self._reasoning_said or not text.isspace()
            out.append(ReasoningDelta(text))

    def _say_answer(self, text: str, out: list[Event]) -> None:
        if text:
            self._answer.append(text)
            self._answer_said = self._answer_said or not text.isspace()
            out.append(ContentDelta(text))

    def _flush_held(self) -> list[Event]:
        rest, self._held = self._held, ""
        out: list[Event] = []
        if not rest.strip():
            return out
        if self._phase == "think":
            self._say_reasoning(rest, out)
        elif self._phase == "start" and self._opens and not rest.lstrip().startswith(("<", "</")):
            self._say_reasoning(rest.lstrip("\r\n"), out)
        else:
            self._say_answer(rest.lstrip("\r\n") if not self._answer else rest, out)
        return out


def _partial(text: str, tag: str) -> bool:
    """True when ``text`` is a proper beginning of ``tag`` (more bytes may complete it)."""
    return len(text) < len(tag) and tag.startswith(text)


def _first(text: str, *tags: str) -> int | None:
    found = [i for i in (text.find(tag) for tag in tags) if i >= 0]
    return min(found) if found else None


def _hold_tail(text: str, *tags: str) -> tuple[str, str]:
    """Split off the longest suffix of ``text`` that could begin one of ``tags``."""
    longest = 0
    for tag in tags:
        for size in range(min(len(tag) - 1, len(text)), longest, -1):
            if text.endswith(tag[:size]):
                longest = size
                break
    return (text[:-longest], text[-longest:]) if longest else (text, "")


def _parse_call(body: str) -> tuple[str, str] | None:
    """``(name, arguments as JSON text)`` of a hermes tool call body, or None if it is not one."""
    try:
        value = json.loads(body)
    except json.JSONDecodeError:
        return None
    if not isinstance(value, dict) or not isinstance(value.get("name"), str):
        return None
    arguments = value.get("arguments", value.get("parameters", {}))
    if isinstance(arguments, str):
        return value["name"], arguments
    return value["name"], json.dumps(arguments, ensure_ascii=False)
