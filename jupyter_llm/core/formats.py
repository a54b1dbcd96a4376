"""Reading a reply in the format a ``%%llm -f FORMAT`` cell asked for.

Models wrap answers in Markdown fences, add a sentence before the JSON, or put ``$$``
around math; each reader here takes the answer out of that wrapping. Nothing here
displays anything: ``display/formats.py`` shows the result.
"""
from __future__ import annotations

import json
import re

from .. import errors

#: The output formats of ``%%llm -f``; markdown is the default.
FORMATS = ("markdown", "text", "code", "json", "html", "math")

_FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[\w+#.-]*)[^\n]*\n(?P<body>.*?)^(?P=fence)[ \t]*$",
                    re.S | re.M)
_MATH = [(r"$$", r"$$"), (r"\[", r"\]"), (r"\(", r"\)"), ("$", "$")]
_PYTHON = {"", "python", "py", "python3", "ipython", "ipython3"}
_JSON_FENCES = ("json", "", "jsonc", "javascript")
_OPENING = re.compile(r"^(`{3,}|~{3,})[ \t]*([\w+#.-]*)[^\n]*\n", re.M)
_SPACE = re.compile(r"\s*")
_DECODER = json.JSONDecoder()
_NONE = object()


def check(name: str | None) -> str:
    """The format ``name`` in lower case; a clear error for an unknown one."""
    name = (name or "markdown").lower()
    if name not in FORMATS:
        raise errors.ConfigError(f"Unknown output format {name!r}: use one of {', '.join(FORMATS)}.")
    return name


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """Every fenced code block in ``text`` as ``(language, code)``, in order."""
    return [(m.group("lang").lower(), m.group("body").rstrip("\n")) for m in _FENCE.finditer(text)]


def extract_code(text: str) -> tuple[str, str]:
    """The code in a reply and its language: the fenced blocks joined, or the whole text.

    Example::

        extract_code("Here:\\n```python\\nprint(1)\\n```\\n")  # ('print(1)', 'python')
    """
    blocks = fenced_blocks(text)
    if not blocks:
        return text.strip("\n"), ""
    language = blocks[0][0]
    same = [code for lang, code in blocks if lang == language]
    return "\n\n".join(same), language


def is_python(language: str) -> bool:
    """True for a fence language a Python cell can run (or none given)."""
    return language in _PYTHON


def parse_json(text: str):
    """The JSON value in a reply, tolerating a fenced block or prose around one object or array.

    Raises ``errors.FormatError`` (saying where the JSON broke) when there is none.

    Example::

        parse_json('Sure:\\n```json\\n{"a": 1}\\n```')  # {'a': 1}
    """
    found = _in_place(text)
    if found is not _NONE:
        return found
    candidates = [code for lang, code in fenced_blocks(text) if lang in ("json", "", "jsonc", "javascript")]
    candidates.append(text.strip())
    first = None
    for candidate in candidates:
        try:
            return json.loads(candidate)
        except json.JSONDecodeError as exc:
            first = first or exc
    inner = _outermost(text)
    if inner is not None:
        try:
            return json.loads(inner)
        except json.JSONDecodeError:
            pass
    where = f" ({first.msg} at line {first.lineno}, column {first.colno})" if first else ""
    raise errors.FormatError(
        f"The reply is not valid JSON{where}. The raw text is kept in _llm.content (and the error's "
        f".reply); ask again, e.g. 'Answer with JSON only.', or use -f text.")


def _in_place(text: str):
    """The JSON of a reply that is one fenced block or all JSON, decoded where it lies, else ``_NONE``.

    The common shapes, read without a copy of the text: the reply of a ``-f json`` cell
    can be tens of megabytes, and each copy of it would count toward the kernel's peak.
    Anything else (prose, several blocks, broken JSON) is left to the general reader.
    """
    start, end = _SPACE.match(text).end(), len(text)
    opening = _OPENING.match(text, start)
    if opening is not None:
        if opening.group(2).lower() not in _JSON_FENCES:
            return _NONE
        closing = re.compile(rf"^{re.escape(opening.group(1))}[ \t]*$", re.M).search(text, opening.end())
        if closing is None or text[closing.end():].strip():
            return _NONE
        start, end = opening.end(), closing.start()
    try:
        value, stop = _DECODER.raw_decode(text, _SPACE.match(text, start).end())
    except json.JSONDecodeError:
        return _NONE
    return value if _SPACE.match(text, stop).end() >= end else _NONE


def _outermost(text: str) -> str | None:
    """The span from the first ``{`` or ``[`` to the last matching closer, if any."""
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    if not starts:
        return None
    start = min(starts)
    end = text.rfind("}" if text[start] == "{" else "]")
    return text[start:end + 1] if end > start else None


def math_source(text: str) -> str:
    """The LaTeX of a reply, without fences or ``$$``/``\\[``/``$`` delimiters."""
    blocks = fenced_blocks(text)
    body = blocks[0][1] if blocks else text
    body = body.strip()
    for opening, closing in _MATH:
        if body.startswith(opening) and body.endswith(closing) and len(body) > len(opening) + len(closing):
            return body[len(opening):-len(closing)].strip()
    return body


def html_source(text: str) -> str:
    """The HTML of a reply: the first ```html block if the model fenced it, else the text."""
    for language, code in fenced_blocks(text):
        if language in ("html", "htm", ""):
            return code
    return text.strip()
