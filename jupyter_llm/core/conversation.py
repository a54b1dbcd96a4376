"""Conversations: the turns of a multi-turn chat, sent again with each new question.

A ``%%llm`` cell stands alone unless it names a conversation (``--chat NAME``), so a
notebook re-run from the top sends the same prompts. Named conversations live in this
module's registry for the kernel's lifetime; a :class:`Conversation` is also a plain
object that saves to and loads from JSON.
"""
from __future__ import annotations

import json
from pathlib import Path

from .. import errors
from .files import write_atomic
from .markdown import safe_markdown
from .messages import as_text, user_turn
from .notes import note
from .chat import send
from .session import catalog, current
from .tokens import NEAR, estimate_messages

#: The conversation ``%%llm --chat`` continues when no name is given.
DEFAULT = "default"
_FORMAT = "jupyter-llm conversation"
_named: dict[str, Conversation] = {}


class Conversation:
    """A multi-turn chat: ``messages`` (OpenAI chat message dicts), a system prompt and a model.

    Each :meth:`ask` sends the earlier turns with the new question and, once the model has
    answered, keeps both. Reasoning is not kept, so it is never sent back. When the turns
    outgrow the model's context (catalogue), the oldest are left out of the request with a
    note; they stay in ``messages``.

    Example::

        chat = jupyter_llm.Conversation(model="qwen3-32b", system="Answer in one sentence.")
        chat.ask("What is a p-value?", think=False)
        chat.ask("And a confidence interval?", think=False)   # sees the first turn
        chat.save("stats-chat.json")
        again = jupyter_llm.Conversation.load("stats-chat.json")
    """

    def __init__(self, messages: list[dict] | None = None, *, name: str | None = None,
                 model: str | None = None, system: str | None = None):
        messages = [dict(m) for m in messages or ()]
        _check_messages(messages)
        if system is None and messages and messages[0].get("role") == "system":
            system = messages.pop(0).get("content")
        self.messages: list[dict] = messages
        self.name = name
        self.model = model
        self.system = system

    @classmethod
    def named(cls, name: str | None = None) -> Conversation:
        """The conversation ``%%llm --chat NAME`` continues (created empty on first use).

        Example::

            jupyter_llm.Conversation.named("review").messages
        """
        name = name or DEFAULT
        if name not in _named:
            _named[name] = cls(name=name)
        return _named[name]

    @staticmethod
    def names() -> list[str]:
        """Names of the conversations ``%%llm --chat`` has started in this kernel."""
        return list(_named)

    def ask(self, prompt: str, *, images=None, model: str | None = None, system: str | None = None,
            on_event=None, **kw):
        """Send ``prompt`` after the earlier turns; keep the question and the answer; return the Reply.

        Keyword arguments are those of :func:`jupyter_llm.ask` (``think``, ``temperature``,
        ``tools``, ...); ``on_event`` hears the reply's events as they arrive. A failed request
        adds nothing to the conversation; the error's ``.reply`` holds any partial answer.
        """
        prompt, cleaned = as_text(prompt)
        if not prompt.strip() and not images:
            raise errors.ConfigError("The prompt is empty: give the model something to answer.")
        if cleaned:
            note(cleaned)
        turn = user_turn(prompt, images)
        session = current()
        model = model or self.model or session.model
        system = self.system if system is None else system
        head = [{"role": "system", "content": system}] if system else []
        info = catalog()[model] if model else None
        history = self.messages
        if info is not None and info.context:
            max_tokens = kw.get("max_tokens") or session.max_tokens
            history, dropped = fit(head, self.messages, turn, info.context, max_tokens)
            if dropped:
                note(f"the conversation outgrew {model}'s context of {info.context:,} tokens: its {dropped} "
                     f"oldest turn(s) were left out of this request (they stay in .messages).")
        # Messages given to the constructor (a panel's transcript) may carry reasoning: never send it back.
        request = head + [_without_reasoning(m) for m in history] + [turn]
        reply = send(request, model=model, on_event=on_event, conversation=self.name, **kw)
        added = reply.messages[len(request):] if len(reply.messages) > len(request) else []
        if not added or added[-1].get("role") != "assistant":
            added = [*added, {"role": "assistant", "content": reply.content}]
        elif added[-1].get("tool_calls"):
            # Calls left unanswered (max_tool_rounds reached) would make the next request invalid.
            added[-1] = {"role": "assistant", "content": added[-1].get("content") or reply.content}
        self.messages += [turn, *(_without_reasoning(m) for m in added)]
        if self.model is None:
            self.model = reply.model or model
        return reply

    def reset(self) -> None:
        """Forget every turn (the name, model and system prompt stay)."""
        self.messages.clear()

    @property
    def turns(self) -> int:
        """How many questions have been asked."""
        return sum(1 for m in self.messages if m.get("role") == "user")

    def save(self, path) -> Path:
        """Write the conversation to ``path`` as JSON (atomically: a crash leaves the old file)."""
        path = Path(path)
        data = {"format": _FORMAT, "version": 1, "name": self.name, "model": self.model,
                "system": self.system, "messages": self.messages}
        write_atomic(path, json.dumps(data, ensure_ascii=False, indent=1))
        return path

    @classmethod
    def load(cls, path) -> Conversation:
        """Read a conversation written by :meth:`save` (or a plain JSON list of messages).

        Example::

            chat = jupyter_llm.Conversation.load("stats-chat.json")
        """
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise errors.ConfigError(f"No conversation file at {path}: check the path.") from exc
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise errors.ConfigError(f"{path} is not a conversation saved as JSON ({exc}).") from exc
        if isinstance(data, list):
            data = {"messages": data}
        if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
            raise errors.ConfigError(f"{path} holds no 'messages' list: it was not written by "
                                     f"Conversation.save.")
        return cls(data["messages"], name=data.get("name"), model=data.get("model"), system=data.get("system"))

    def transcript(self) -> str:
        """The conversation as Markdown, one section per message (model text made safe)."""
        parts = [f"**system**: {safe_markdown(self.system)}"] if self.system else []
        for message in self.messages:
            role = message.get("role", "?")
            text = _text_of(message)
            if message.get("tool_calls"):
                calls = ", ".join(c.get("function", {}).get("name", "?") for c in message["tool_calls"])
                text = f"{text}\n\n*calls {calls}*".strip()
            parts.append(f"**{role}**: {safe_markdown(text)}")
        return "\n\n".join(parts)

    def __len__(self) -> int:
        return len(self.messages)

    def __repr__(self) -> str:
        name = f"{self.name!r}, " if self.name else ""
        return f"Conversation({name}{self.turns} turns, model={self.model!r})"

    def _repr_mimebundle_(self, include=None, exclude=None):
        lines = [repr(self)] + [f"{m.get('role')}: {_text_of(m)}" for m in self.messages]
        # Bold closes before the name: "**Conversation **" with no name would not render as bold.
        header = " · ".join(filter(None, ["**Conversation**" + (f" {safe_markdown(repr(self.name))}" if self.name else ""),
                                          f"{self.turns} turn{'' if self.turns == 1 else 's'}",
                                          safe_markdown(self.model or "")]))
        body = self.transcript() or "*(empty)*"
        return {"text/plain": "\n".join(lines), "text/markdown": f"{header}\n\n{body}"}


def fit(head: list[dict], history: list[dict], turn: dict, context: int, max_tokens: int | None = None
        ) -> tuple[list[dict], int]:
    """The newest turns of ``history`` that fit in ``context``, and how many turns were left out.

    A turn is a user message and everything after it up to the next user message, so an
    answer is never sent without its question, nor a tool result without its call.
    """
    budget = NEAR * context - (max_tokens or 0) - estimate_messages(head + [turn])
    starts = sorted({0, *(i for i, m in enumerate(history) if m.get("role") == "user")})
    for dropped, start in enumerate(starts):
        if estimate_messages(history[start:]) <= budget:
            return history[start:], dropped
    return [], len(starts) if history else 0


def _without_reasoning(message: dict) -> dict:
    return {k: v for k, v in message.items() if k not in ("reasoning", "reasoning_content")}


def _text_of(message: dict) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                out.append("[image]")
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append(part["text"])
        return " ".join(out)
    return ""


def _check_messages(messages: list[dict]) -> None:
    for number, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "user", "assistant", "tool"):
            raise errors.ConfigError(
                f"messages[{number}] is not a chat message: each must be a dict with a role of "
                f"'system', 'user', 'assistant' or 'tool' and its content, e.g. "
                f"{{'role': 'user', 'content': 'Hello'}}.")
