"""Wire chunks -> typed events -> one :class:`~jupyter_llm.reply.Reply`.

Handles what servers really send (see PROTOCOL.md): ``reasoning`` (vLLM since 2026) and
``reasoning_content`` (older vLLM, SGLang), thinking inline in ``content`` with or without
the opening ``<think>`` and with tags cut across chunks, tool calls in fragments by index
(vLLM's split first entry, SGLang's explicit nulls, interleaving), a finish reason in a
chunk of its own, unknown finish reasons, and the usage chunk with no choices.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from .events import (
    ContentDelta,
    Event,
    Finished,
    Notice,
    ReasoningDelta,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from .reply import Reply, ToolCall

_OPEN, _CLOSE = "<think>", "</think>"


class ThinkSplitter:
    """Splits ``content`` that carries inline ``<think>…</think>`` into reasoning and answer.

    ``expect_thinking`` is True for a model that thinks by default and may send its
    thinking inline without the opening tag (QwQ behind a server with no reasoning
    parser): everything before ``</think>`` is then reasoning. Otherwise the text is an
    answer unless it opens with ``<think>``. A server that sends reasoning in its own
    field sends the answer in ``content``: call :meth:`answer_only` when that happens.
    """

    def __init__(self, expect_thinking: bool = False):
        self._mode = "think" if expect_thinking else "start"
        self._held = ""
        self._fresh = True

    def answer_only(self) -> None:
        if self._mode in ("start", "think") and self._fresh:
            self._mode = "answer"

    def feed(self, text: str) -> list[Event]:
        if self._mode == "answer":
            return [ContentDelta(text)] if text else []
        text = self._held + text
        self._held = ""
        out: list[Event] = []
        if self._mode == "start":
            stripped = text.lstrip()
            if not stripped or (_OPEN.startswith(stripped) and stripped != _OPEN):
                self._held = text
                return out
            if not stripped.startswith(_OPEN):
                self._mode = "answer"
                return [ContentDelta(text)]
            self._mode = "think"
        if self._mode == "think":
            if self._fresh:
                stripped = text.lstrip()
                if stripped.startswith(_OPEN):
                    stripped = stripped[len(_OPEN):].lstrip()
                elif _OPEN.startswith(stripped) and stripped:
                    self._held = text
                    return out
                text = stripped
            index = text.find(_CLOSE)
            if index < 0:
                head, self._held = _split_tail(text, _CLOSE)
                if head:
                    self._fresh = False
                    out.append(ReasoningDelta(head))
                return out
            self._fresh = False
            if index:
                out.append(ReasoningDelta(text[:index]))
            self._mode = "after"
            text = text[index + len(_CLOSE):]
        # "after": the blank lines a model puts between </think> and its answer are not answer.
        answer = text.lstrip("\n")
        if answer:
            self._mode = "answer"
            out.append(ContentDelta(answer))
        return out

    def flush(self) -> list[Event]:
        """At end of stream: whatever was held back is text after all."""
        rest, self._held = self._held, ""
        if not rest.strip():
            return []
        return [ReasoningDelta(rest)] if self._mode == "think" else [ContentDelta(rest)]


def _split_tail(text: str, tag: str) -> tuple[str, str]:
    """Split off a suffix of ``text`` that could be the start of ``tag``."""
    for i in range(min(len(tag) - 1, len(text)), 0, -1):
        if text.endswith(tag[:i]):
            return text[:-i], text[-i:]
    return text, ""


def events(chunks: Iterable[dict], *, expect_thinking: bool = False) -> Iterator[Event]:
    """Turn chat completion chunks (parsed JSON of each ``data:`` line) into events.

    ``expect_thinking``: see :class:`ThinkSplitter`.
    """
    splitter = ThinkSplitter(expect_thinking)
    for chunk in chunks:
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta")
            if delta:
                reasoning = delta.get("reasoning") or delta.get("reasoning_content")
                if reasoning:
                    splitter.answer_only()
                    yield ReasoningDelta(reasoning)
                content = delta.get("content")
                if content:
                    yield from splitter.feed(content)
                for call in delta.get("tool_calls") or ():
                    function = call.get("function") or {}
                    yield ToolCallDelta(
                        index=call.get("index") or 0,
                        id=call.get("id") or None,
                        name=function.get("name") or None,
                        arguments=function.get("arguments") or "",
                    )
            if choice.get("finish_reason"):
                yield from splitter.flush()
                yield Finished(str(choice["finish_reason"]))
        usage = chunk.get("usage")
        if usage:
            yield UsageReport(_usage(usage))
    yield from splitter.flush()


def _usage(usage: dict) -> Usage:
    details = usage.get("completion_tokens_details") or {}
    reasoning = details.get("reasoning_tokens")
    if reasoning is None:
        reasoning = usage.get("reasoning_tokens")
    return Usage(
        prompt_tokens=usage.get("prompt_tokens") or 0,
        completion_tokens=usage.get("completion_tokens") or 0,
        total_tokens=usage.get("total_tokens") or 0,
        reasoning_tokens=reasoning,
    )


class ReplyBuilder:
    """Accumulates events into a :class:`Reply`; ``reply`` is valid at any moment (partial too)."""

    def __init__(self, model: str, *, clock=time.perf_counter):
        self._clock = clock
        self._start = clock()
        self._content: list[str] = []
        self._reasoning: list[str] = []
        self._calls: dict[int, dict] = {}
        self._notices: list[str] = []
        self.reply = Reply(model=model)

    def add(self, event: Event) -> None:
        kind = type(event)
        if kind is ContentDelta or kind is ReasoningDelta:
            if self.reply.ttft is None:
                self.reply.ttft = self._clock() - self._start
            (self._content if kind is ContentDelta else self._reasoning).append(event.text)
        elif kind is ToolCallDelta:
            if self.reply.ttft is None:
                self.reply.ttft = self._clock() - self._start
            call = self._calls.setdefault(event.index, {"id": None, "name": None, "arguments": []})
            if event.id and not call["id"]:
                call["id"] = event.id
            if event.name and not call["name"]:
                call["name"] = event.name
            if event.arguments:
                call["arguments"].append(event.arguments)
        elif kind is Finished:
            self.reply.finish_reason = event.reason
        elif kind is UsageReport:
            self.reply.usage = event.usage
        elif kind is Notice:
            self._notices.append(event.text)

    def finish(self) -> Reply:
        """Close the reply: join the text, build tool calls, stamp the elapsed time."""
        reply = self.reply
        reply.content = "".join(self._content)
        reply.reasoning = "".join(self._reasoning)
        reply.tool_calls = [
            ToolCall(
                id=call["id"] or f"call_{index}",
                name=call["name"] or "",
                arguments_json="".join(call["arguments"]),
                index=index,
            )
            for index, call in sorted(self._calls.items())
        ]
        reply.elapsed = self._clock() - self._start
        return reply
