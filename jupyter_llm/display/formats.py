"""The outputs of a reply shown in the format ``%%llm -f FORMAT`` asked for.

Each bundle keeps a ``text/plain`` fallback, so a saved notebook reads the same without
a kernel; HTML goes through the allow-list sanitiser before it reaches the page.
"""
from __future__ import annotations

import json

from .. import errors
from ..core import formats
from .html import answer_bundle, plain_preview
from ..core.markdown import safe_markdown
from .safe import safe_html


def format_bundle(name: str, content: str) -> dict:
    """The MIME bundle of a finished answer in format ``name``.

    Example::

        format_bundle("json", '```json\\n{"a": 1}\\n```')
        # {'text/plain': '{\\n  "a": 1\\n}', 'application/json': {'a': 1}}
    """
    if name == "text":
        return {"text/plain": content}
    if name == "code":
        code, language = formats.extract_code(content)
        fence = "`" * max(3, _longest_run(code, "`") + 1)
        return {"text/plain": code, "text/markdown": f"{fence}{language}\n{code}\n{fence}"}
    if name == "json":
        try:
            value = formats.parse_json(content)
        except errors.FormatError:
            return {"text/plain": plain_preview(content)}  # the raw text, with the error after it
        pretty = json.dumps(value, indent=2, ensure_ascii=False, default=str)
        bundle = {"text/plain": plain_preview(pretty)}
        if isinstance(value, (dict, list)):
            bundle["application/json"] = value
        return bundle
    if name == "html":
        cleaned = safe_html(formats.html_source(content))
        return {"text/plain": plain_preview(content), "text/html": cleaned}
    if name == "math":
        latex = formats.math_source(content)
        return {"text/plain": latex, "text/latex": f"$$\n{latex}\n$$",
                "text/markdown": safe_markdown(f"$$\n{latex}\n$$")}
    return answer_bundle(content)


def _longest_run(text: str, char: str) -> int:
    longest = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        longest = max(longest, run)
    return longest
