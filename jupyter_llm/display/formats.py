"""The outputs of a reply shown in the format ``%%llm -f FORMAT`` asked for.

Each bundle keeps a ``text/plain`` fallback, so a saved notebook reads the same without
a kernel; HTML goes through the allow-list sanitiser before it reaches the page. A JSON
reply too long to show whole is shown by its head and its size: the object is in Python.
"""
from __future__ import annotations

import json
from collections.abc import Callable

from .. import errors
from ..core import formats
from .html import PLAIN_LIMIT, answer_bundle, plain_preview
from ..core.markdown import safe_markdown, strip_controls
from .safe import safe_html

#: Characters of a JSON reply above which it is not sent whole: a front end's JSON tree of
#: megabytes freezes the page, and the saved notebook would hold every byte of it.
JSON_SHOWN = 100_000
#: (lines, characters) of a long JSON reply shown: its head, about a screen of it, live and at the end.
JSON_HEAD = (40, PLAIN_LIMIT)


def format_bundle(name: str, content: str, parse: Callable[[str], object] = formats.parse_json) -> dict:
    """The MIME bundle of a finished answer in format ``name``.

    ``parse`` reads a JSON answer (a cell passes the reader that also fills ``-o NAME``,
    so a long reply is parsed once).

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
            value = parse(content)
        except errors.FormatError:
            return {"text/plain": plain_preview(content)}  # the raw text, with the error after it
        if len(content) > JSON_SHOWN:
            return _json_head(content, value)
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


def _json_head(content: str, value) -> dict:
    """A long JSON reply as its first lines, as the model wrote them, and what the whole holds."""
    lines, chars = JSON_HEAD
    head = content[:chars]
    cut = head.rfind("\n")
    head = strip_controls(head[:cut] if cut > chars // 2 else head).strip("\n")
    if head.startswith(("```", "~~~")):
        head = head.split("\n", 1)[-1]  # the fence opens the preview again below
    head = "\n".join(head.split("\n", lines)[:lines])
    if isinstance(value, list):
        what = f"a list of {len(value):,} items"
    elif isinstance(value, dict):
        what = f"an object of {len(value):,} keys"
    else:
        what = f"a {type(value).__name__}"
    summary = (f"JSON: {what}, {len(content):,} characters, too long to show whole here. The first lines are "
               f"above; the whole object is in {{parsed}} (and in -o NAME), the text in {{content}}.")
    fence = "`" * max(3, _longest_run(head, "`") + 1)
    plain = summary.format(parsed="_llm.parsed", content="_llm.content")
    rich = summary.format(parsed="`_llm.parsed`", content="`_llm.content`").replace("-o NAME", "`-o NAME`")
    return {"text/plain": f"{head}\n…\n{plain}", "text/markdown": f"{fence}json\n{head}\n…\n{fence}\n\n*{rich}*"}


def _longest_run(text: str, char: str) -> int:
    longest = run = 0
    for c in text:
        run = run + 1 if c == char else 0
        longest = max(longest, run)
    return longest
