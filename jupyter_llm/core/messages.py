"""Messages: ``{name}`` filled from the notebook, text made sendable, the user's turn, the list sent."""
from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field

from .. import errors
from .images import user_content
from .values import prompt_text

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


def user_turn(prompt: str, images=None) -> dict:
    """The user message for ``prompt``: plain text, or text and image parts for a vision model.

    Example::

        user_turn("What is in this chart?", images=[fig])
        # {'role': 'user', 'content': [{'type': 'text', ...}, {'type': 'image_url', ...}]}
    """
    if images:
        return {"role": "user", "content": user_content(prompt, images)}
    return {"role": "user", "content": prompt}


def build_messages(prompt: str, *, system: str | None = None, history: list[dict] | None = None,
                   images=None) -> list[dict]:
    """The ``messages`` list for one turn: the system prompt, earlier turns, the user's turn."""
    messages = []
    if system:
        messages.append({"role": "system", "content": system})
    messages.extend(history or ())
    messages.append(user_turn(prompt, images))
    return messages


def clean(messages: list[dict]) -> tuple[list[dict], str | None]:
    """Copies of ``messages`` whose text can be sent as UTF-8 (lone surrogates replaced), and the
    note about the first text that had to change."""
    notes = []

    def text(value: str) -> str:
        value, note = as_text(value)
        notes.extend([note] if note else [])
        return value

    out = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            message = dict(message, content=text(content))
        elif isinstance(content, list):
            parts = [dict(p, text=text(p["text"])) if isinstance(p, dict) and isinstance(p.get("text"), str) else p
                     for p in content]
            message = dict(message, content=parts)
        out.append(message)
    return out, (notes[0] if notes else None)
