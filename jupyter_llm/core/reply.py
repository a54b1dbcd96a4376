"""The assembled result of one chat request: :class:`Reply` and its :class:`ToolCall`."""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field

from .events import Usage
from .markdown import safe_markdown


@dataclass(slots=True)
class ToolCall:
    """One function call the model asked for.

    ``arguments`` is the parsed JSON object (``None`` when the model sent invalid JSON,
    with the reason in ``arguments_error``); ``arguments_json`` is the string as sent.
    """

    id: str
    name: str
    arguments_json: str
    index: int = 0

    @property
    def arguments(self) -> dict | None:
        try:
            value = json.loads(self.arguments_json or "{}")
        except json.JSONDecodeError:
            return None
        return value if isinstance(value, dict) else None

    @property
    def arguments_error(self) -> str | None:
        try:
            value = json.loads(self.arguments_json or "{}")
        except json.JSONDecodeError as exc:
            return f"arguments are not valid JSON ({exc.msg} at position {exc.pos})"
        if not isinstance(value, dict):
            return f"arguments must be a JSON object, got {type(value).__name__}"
        return None


@dataclass(slots=True)
class Reply:
    """A model's reply: the answer, its reasoning, tool calls, usage and timings.

    Example::

        reply = jupyter_llm.ask("Name three prime numbers.", display=False)
        reply.content, reply.reasoning, reply.usage.total_tokens, reply.ttft
    """

    content: str = ""
    reasoning: str = ""
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str = ""
    ttft: float | None = None
    elapsed: float | None = None
    messages: list[dict] = field(default_factory=list)
    #: Every tool call run for this reply, in order (``toolloop.ToolResult``); empty without tools.
    tool_results: list = field(default_factory=list)
    #: The answer read in the format asked for (``%%llm -f json``: the Python object; ``-f code``: the code).
    parsed: object = None
    #: The model's refusal, when it declined in the OpenAI way (``refusal`` rather than ``content``).
    refusal: str | None = None
    #: What ended the reply when a stop string or token did (vLLM ``stop_reason``, SGLang ``matched_stop``).
    stop_reason: str | int | None = None
    #: The server's log-probability entries, one per answer token (ask with ``logprobs=True``).
    token_logprobs: list = field(default_factory=list, repr=False)
    #: Choices after the first, when the request asked for ``n`` > 1.
    alternatives: list = field(default_factory=list, repr=False)
    #: The call log's row for this reply (``%llm_log ID`` shows it); None when the log is off.
    log_id: str | None = None

    @property
    def complete(self) -> bool:
        """True when the model finished (any finish reason); False for a cut-off reply."""
        return self.finish_reason is not None

    @property
    def choices(self) -> list[Reply]:
        """Every choice of the request, this one first (more than one with ``n`` > 1)."""
        return [self, *self.alternatives]

    @property
    def logprobs(self):
        """The answer's tokens as a DataFrame: ``token``, ``logprob``, ``probability`` and ``top``
        (the alternatives, token -> logprob), one row per token; None unless the request asked
        for ``logprobs=True`` (``top_logprobs=k`` fills ``top``).

        Example::

            reply = jupyter_llm.ask("Is 7 prime? Answer yes or no.", logprobs=True, top_logprobs=3)
            reply.logprobs.probability.min()     # the least certain token
        """
        if not self.token_logprobs:
            return None
        import numpy as np
        import pandas as pd

        rows = [{"token": e.get("token"), "logprob": e.get("logprob"),
                 "top": {t.get("token"): t.get("logprob") for t in e.get("top_logprobs") or ()}}
                for e in self.token_logprobs]
        frame = pd.DataFrame(rows, columns=["token", "logprob", "top"])
        frame.insert(2, "probability", np.exp(frame["logprob"].astype(float)))
        return frame

    @property
    def tokens_per_second(self) -> float | None:
        if not self.usage or not self.usage.completion_tokens or not self.elapsed:
            return None
        generating = self.elapsed - (self.ttft or 0.0)
        return self.usage.completion_tokens / generating if generating > 0 else None

    def __str__(self) -> str:
        return self.content

    def __repr__(self) -> str:
        text = self.content if len(self.content) <= 60 else self.content[:57] + "..."
        state = self.finish_reason or "incomplete"
        extra = f", {len(self.tool_calls)} tool calls" if self.tool_calls else ""
        extra += f", {len(self.tool_results)} tool results" if self.tool_results else ""
        return f"Reply({self.model!r}, {state}, {text!r}{extra})"

    def summary(self) -> str:
        """One line: model, tokens, time to first token, tokens/s."""
        parts = [self.model or "?"]
        if self.usage:
            parts.append(f"{self.usage.prompt_tokens:,} → {self.usage.completion_tokens:,} tokens")
        if self.ttft is not None:
            parts.append(f"first token {self.ttft:.2f} s")
        rate = self.tokens_per_second
        if rate is not None:
            parts.append(f"{rate:,.0f} tokens/s")
        if self.elapsed is not None:
            parts.append(f"{self.elapsed:.2f} s")
        if self.refusal:
            parts.append("refused")
        if self.alternatives:
            parts.append(f"{len(self.choices)} choices (.choices)")
        if not self.complete:
            parts.append("INCOMPLETE")
        elif self.finish_reason not in ("stop", "tool_calls"):
            parts.append(f"finish: {self.finish_reason}")
        return " · ".join(parts)

    def _repr_mimebundle_(self, include=None, exclude=None):
        # Model text is shown, never run: raw HTML in it is escaped as in %%llm's output.
        markdown = safe_markdown(self.content)
        if self.tool_calls:
            calls = "\n".join(f"- `{c.name}({c.arguments_json})`" for c in self.tool_calls)
            markdown = f"{markdown}\n\n**Tool calls**\n{calls}".strip()
        if self.refusal:
            markdown = f"{markdown}\n\n*Refused:* {safe_markdown(self.refusal)}".strip()
        plain = self.content or self.refusal or repr(self)
        return {
            "text/plain": plain,
            "text/markdown": markdown or html.escape(repr(self)),
        }
