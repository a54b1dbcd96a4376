"""Typed events that a chat stream produces, in arrival order.

The core turns wire chunks into these; display renderers, panels and cassettes consume
them. They carry text fragments, never whole replies, so a consumer can stay linear in
the reply's length.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """A piece of the model's reasoning ("thinking") text."""

    text: str


@dataclass(frozen=True, slots=True)
class ContentDelta:
    """A piece of the answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    """A fragment of tool call number ``index``; ``id`` and ``name`` come with the first."""

    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts the server reported for one request."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    reasoning_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class UsageReport:
    """The usage chunk at the end of a stream."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Finished:
    """The model said why it stopped (``stop``, ``length``, ``tool_calls``, or any other).

    ``stop`` is the stop string or token that ended it, when the server says (vLLM's
    ``stop_reason``, SGLang's ``matched_stop``).
    """

    reason: str
    stop: str | int | None = None


@dataclass(frozen=True, slots=True)
class Revised:
    """The split between reasoning and answer so far was wrong: this is the whole text of each.

    Sent when a later tag, or the end of the stream, shows that what streamed as reasoning
    was the answer (or the other way round); see :mod:`jupyter_llm.core.think`.
    """

    reasoning: str
    content: str


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """A piece of the model's refusal (OpenAI-style ``refusal``), kept apart from the answer."""

    text: str


@dataclass(frozen=True, slots=True)
class LogprobsDelta:
    """Log probabilities of the tokens of a piece of the answer: the server's ``logprobs.content`` entries."""

    entries: tuple


@dataclass(frozen=True, slots=True)
class ChoiceEvent:
    """An event of choice ``index`` > 0, when the request asked for several (``n``)."""

    index: int
    event: object


@dataclass(frozen=True, slots=True)
class ToolStatus:
    """Tool call number ``index`` of the reply, as the client runs it.

    ``status`` is ``running``, then ``done`` or ``failed`` with the seconds it took and
    ``result``, the text sent back to the model (an error's text when it failed).
    """

    index: int
    name: str
    status: str
    seconds: float | None = None
    result: str = ""


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the user should see that is not model output (a retry wait, a dropped turn)."""

    text: str


@dataclass(frozen=True, slots=True)
class RoundEnd:
    """One request of a chat completed (its tool calls run, if any); ``reply`` is that round's
    :class:`~jupyter_llm.core.reply.Reply`. With tools, another round may follow."""

    reply: object


Event = (ReasoningDelta | ContentDelta | ToolCallDelta | ToolStatus | UsageReport | Finished | Notice | RoundEnd
         | Revised | RefusalDelta | LogprobsDelta | ChoiceEvent)
