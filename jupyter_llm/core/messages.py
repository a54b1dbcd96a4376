"""Request building: messages, ``{name}`` interpolation, and the thinking switch."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .. import errors
from .catalog import ModelInfo

# A reference is a name followed by attribute access and literal indexing: {df}, {df.shape},
# {In[3]}, {d["key"]}. Anything else in braces (code, JSON, set literals) is left as it is.
_REF = r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*|\[(?:-?\d+|'[^'\]]*'|\"[^\"\]]*\")\])*"
_PLACEHOLDER = re.compile(r"(?<!\{)\{\{(" + _REF + r")\}\}(?!\})|(?<!\{)\{(" + _REF + r")\}(?!\})")
_TOKEN = re.compile(r"\.([A-Za-z_]\w*)|\[(-?\d+|'[^']*'|\"[^\"]*\")\]")
_MISSING = object()


@dataclass
class Interpolated:
    """The prompt with references filled in, and the references that were left as they were."""

    text: str
    missing: list[str] = field(default_factory=list)


def interpolate(template: str, namespace: dict) -> Interpolated:
    """Fill ``{name}`` and ``{expr.attr}`` from ``namespace``; ``{{name}}`` stays literal.

    Example::

        interpolate("Rows: {df.shape[0]}", {"df": df}).text  # 'Rows: 3'
    """
    missing: list[str] = []

    def fill(match: re.Match) -> str:
        if match.group(1):
            return "{" + match.group(1) + "}"
        ref = match.group(2)
        value = _resolve(ref, namespace)
        if value is _MISSING:
            missing.append(ref)
            return match.group(0)
        return _as_text(value)

    return Interpolated(_PLACEHOLDER.sub(fill, template), missing)


def _resolve(ref: str, namespace: dict):
    head = re.match(r"[A-Za-z_]\w*", ref).group(0)
    if head not in namespace:
        return _MISSING
    value = namespace[head]
    for attr, index in _TOKEN.findall(ref[len(head):]):
        try:
            value = getattr(value, attr) if attr else value[ast.literal_eval(index)]
        except Exception:
            return _MISSING
    return value


def _as_text(value) -> str:
    from .values import prompt_text

    return prompt_text(value)


_SURROGATE = re.compile("[\ud800-\udfff]")


def as_text(prompt) -> tuple[str, str | None]:
    """``prompt`` as text that can be sent as UTF-8, and a note for the user if it had to change.

    ``bytes`` are decoded as UTF-8, each invalid sequence replaced by U+FFFD. A ``str`` may hold
    lone surrogates (a file read with ``errors="surrogateescape"``, a pasted cell): the request's
    JSON could not be encoded at all, so each one becomes U+FFFD too.

    Example::

        as_text(b"caf\\xe9")  # ('caf\ufffd', 'the prompt is not valid UTF-8: 1 invalid ...')
    """
    if isinstance(prompt, (bytes, bytearray)):
        text = bytes(prompt).decode("utf-8", errors="replace")
        bad = text.count("\ufffd") - bytes(prompt).count("\ufffd".encode())
        note = f"the prompt is not valid UTF-8: {bad} invalid byte sequence(s) replaced with \ufffd."
        return text, note if bad else None
    if not isinstance(prompt, str):
        raise errors.ConfigError(
            f"The prompt must be text (str), not {type(prompt).__name__}: pass str(value) or an f-string."
        )
    if not _SURROGATE.search(prompt):
        return prompt, None
    # A surrogate pair written as two code points is one character: join pairs, then replace the rest.
    joined = prompt.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")
    text, bad = _SURROGATE.subn("\ufffd", joined)
    note = f"the prompt had {bad} lone surrogate(s), which are not text: replaced with \ufffd."
    return text, note if bad else None


def build_messages(prompt: str, *, system: str | None = None, history: list[dict] | None = None) -> list[dict]:
    """The ``messages`` list for one turn."""
    messages = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.extend(history or ())
    messages.append({"role": "user", "content": prompt})
    return messages


def apply_thinking(body: dict, info: ModelInfo, think: bool | None, *, soft: bool = False) -> str | None:
    """Add the thinking switch to ``body`` for ``think``; returns a notice for the user, if any.

    Qwen3's hard switch is ``chat_template_kwargs.enable_thinking``; gateways that drop
    unknown fields need the soft switch ``/no_think`` (``/think``) in the last user message.
    """
    if think is None:
        return None
    if think and info.thinking is False:
        raise errors.CapabilityError(
            f"{info.name} does not think (no reasoning mode). Use a thinking model such as one "
            f"listed with thinking=True in %llm_models, or drop --think."
        )
    if not info.thinking_switch:
        if not think and info.thinking:
            return f"{info.name} has no thinking switch: it will think anyway."
        return None
    body["chat_template_kwargs"] = {"enable_thinking": bool(think)}
    if soft:
        last = next(m for m in reversed(body["messages"]) if m["role"] == "user")
        if isinstance(last["content"], str):
            last["content"] = f"{last['content'].rstrip()} {'/think' if think else '/no_think'}"
    return None
