"""Wire chunks -> typed events -> one :class:`~jupyter_llm.core.reply.Reply`.

Handles what servers really send (see PROTOCOL.md): ``reasoning`` (vLLM since 2026) and
``reasoning_content`` (older vLLM, SGLang), thinking inline in ``content`` with or without
the opening ``<think>`` (split by :mod:`.think`), tool calls in fragments by index (vLLM's
split first entry, SGLang's explicit nulls, interleaving, or hermes text in ``content``),
refusals, token log probabilities, several choices (``n``), a finish reason in a chunk of
its own with the stop that ended it, unknown finish reasons, and the usage chunk with no
choices.
"""
from __future__ import annotations

import time
from collections.abc import Iterable, Iterator

from .events import (
    ChoiceEvent,
    ContentDelta,
    Event,
    Finished,
    LogprobsDelta,
    Notice,
    ReasoningDelta,
    RefusalDelta,
    Revised,
    ToolCallDelta,
    Usage,
    UsageReport,
)
from .reply import Reply, ToolCall
from .pieces import Pieces
from .think import Splitter


def events(chunks: Iterable[dict], *, opens_thinking: bool = False, tools: bool = False) -> Iterator[Event]:
    """Turn chat completion chunks (parsed JSON of each ``data:`` line) into events.

    ``opens_thinking``: the model's template opens a think block, so untagged text streams
    as reasoning until the stream shows otherwise. ``tools``: the request offered tools, so
    hermes ``<tool_call>`` blocks in the text are tool calls. Events of a second or later
    choice come wrapped in :class:`ChoiceEvent`.
    """
    assembler = Assembler(opens_thinking=opens_thinking, tools=tools)
    for chunk in chunks:
        yield from assembler.feed(chunk)
    yield from assembler.end()


class Assembler:
    """:func:`events` one chunk at a time, for a reader that gets its chunks by ``await``.

    Both chat paths assemble their stream with it, so a reply streams the same events
    whichever transport carried it.

    Example::

        assembler = Assembler(opens_thinking=True)
        async for chunk in chunks:
            for event in assembler.feed(chunk):
                view.add(event)
        for event in assembler.end():
            view.add(event)
    """

    __slots__ = ("_opens_thinking", "_tools", "_splitters", "_finished")

    def __init__(self, *, opens_thinking: bool = False, tools: bool = False):
        self._opens_thinking = opens_thinking
        self._tools = tools
        self._splitters: dict[int, Splitter] = {}
        self._finished: set[int] = set()

    def feed(self, chunk: dict) -> Iterator[Event]:
        """The events of one chunk, in order."""
        for choice in chunk.get("choices") or ():
            index = choice.get("index") or 0
            splitter = self._splitters.get(index)
            if splitter is None:
                splitter = self._splitters[index] = Splitter(self._opens_thinking, tools=self._tools)
            yield from _wrap(index, _choice_events(choice, splitter))
            if choice.get("finish_reason"):
                self._finished.add(index)
                reason = str(choice["finish_reason"])
                stop = choice.get("stop_reason", choice.get("matched_stop"))
                yield from _wrap(index, [*splitter.finish(reason), Finished(reason, stop)])
        usage = chunk.get("usage")
        if usage:
            yield UsageReport(_usage(usage))

    def end(self) -> Iterator[Event]:
        """What the think splitters still hold for choices the stream left unfinished (once)."""
        for index, splitter in self._splitters.items():
            if index not in self._finished:
                self._finished.add(index)
                yield from _wrap(index, splitter.finish(None))


def _wrap(index: int, items) -> Iterator[Event]:
    for item in items:
        yield item if index == 0 else ChoiceEvent(index, item)


def _choice_events(choice: dict, splitter: Splitter) -> Iterator[Event]:
    delta = choice.get("delta")
    if delta:
        reasoning = delta.get("reasoning") or delta.get("reasoning_content")
        if reasoning:
            yield from splitter.server_reasoning(reasoning)
        refusal = delta.get("refusal")
        if refusal:
            yield RefusalDelta(refusal)
        calls = delta.get("tool_calls") or ()
        content = delta.get("content")
        if content:
            yield from splitter.feed(content)
        if calls:
            yield from splitter.tool_call()
        for call in calls:
            function = call.get("function") or {}
            yield ToolCallDelta(
                index=call.get("index") or 0,
                id=call.get("id") or None,
                name=function.get("name") or None,
                arguments=function.get("arguments") or "",
            )
    logprobs = choice.get("logprobs")
    if isinstance(logprobs, dict) and logprobs.get("content"):
        yield LogprobsDelta(tuple(logprobs["content"]))


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
        self._content = Pieces()
        self._reasoning = Pieces()
        self._refusal: list[str] = []
        self._logprobs: list[dict] = []
        self._calls: dict[int, dict] = {}
        self._notices: list[str] = []
        self._choices: dict[int, ReplyBuilder] = {}
        self.reply = Reply(model=model)

    def add(self, event: Event) -> None:
        kind = type(event)
        if kind is ContentDelta or kind is ReasoningDelta:
            self._first()
            (self._content if kind is ContentDelta else self._reasoning).append(event.text)
        elif kind is ToolCallDelta:
            self._first()
            call = self._calls.setdefault(event.index, {"id": None, "name": None, "arguments": []})
            if event.id and not call["id"]:
                call["id"] = event.id
            if event.name and not call["name"]:
                call["name"] = event.name
            if event.arguments:
                call["arguments"].append(event.arguments)
        elif kind is Revised:
            self._reasoning, self._content = Pieces([event.reasoning]), Pieces([event.content])
        elif kind is RefusalDelta:
            self._first()
            self._refusal.append(event.text)
        elif kind is LogprobsDelta:
            self._logprobs.extend(event.entries)
        elif kind is Finished:
            self.reply.finish_reason = event.reason
            self.reply.stop_reason = event.stop
        elif kind is UsageReport:
            self.reply.usage = event.usage
        elif kind is Notice:
            self._notices.append(event.text)
        elif kind is ChoiceEvent:
            other = self._choices.get(event.index)
            if other is None:
                other = self._choices[event.index] = ReplyBuilder(self.reply.model, clock=self._clock)
            other.add(event.event)

    def _first(self) -> None:
        if self.reply.ttft is None:
            self.reply.ttft = self._clock() - self._start

    def finish(self) -> Reply:
        """Close the reply: join the text, build tool calls, stamp the elapsed time."""
        reply = self.reply
        content, reasoning = "".join(self._content), "".join(self._reasoning)
        reply.content, reply.reasoning = _tidy(content), _tidy(reasoning)
        # The pieces go now, not when the builder does: the reply's text is in memory once
        # while it is shown and parsed (a -f json reply of megabytes), not twice. The text
        # before tidying stays, for the events that may follow a partial finish.
        self._content, self._reasoning = Pieces([content]), Pieces([reasoning])
        reply.refusal = "".join(self._refusal) or None
        reply.token_logprobs = list(self._logprobs)
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
        reply.alternatives = [self._choices[i].finish() for i in sorted(self._choices)]
        return reply


def _tidy(text: str) -> str:
    """The one white-space rule: no newlines before the text, no white space after it."""
    return text.lstrip("\r\n").rstrip()
