"""A long Markdown answer cut into consecutive parts, each a whole run of top-level blocks.

A front end renders each output of a cell in a task of its own. JupyterLab parses,
sanitizes, lays out and typesets a Markdown output in one go, about 2 ms of CPU per KB on
a 2-core machine, so an answer of 80 KB in one output froze the page for 170 ms. Each
output added also costs Lab a forced layout of it (``CodeCell.updatePromptOverlayIcon``)
and its message 0.6 KB of headers, and the last words show only once every part before
them has rendered: so parts are about 20 KB (about 45 ms each), no smaller.
The parts join back into the answer exactly, and they depend only on its text, so a saved
notebook and nbval see the same outputs for the same reply.
"""
from __future__ import annotations

import re

from ..core.markdown import block_tokens

#: Characters per part, at least.
PART_CHARS = 20_000
_BEGIN = re.compile(r"\\begin\{")
_END = re.compile(r"\\end\{")


def markdown_parts(text: str, size: int = PART_CHARS) -> list[str]:
    """``text`` as parts of at least ``size`` characters (the last may be shorter), cut only
    where a top-level block starts: never inside a code fence, a table, a list or a quote.

    Whole when short, and whole when a cut could change what a part shows: link reference
    definitions (a link in one part may point into another), or carriage returns (the
    parser counts its lines differently).

    Example::

        "".join(markdown_parts(answer)) == answer  # always
    """
    if len(text) < 2 * size or "\r" in text:
        return [text]
    env: dict = {}
    tokens = block_tokens(text, env)
    if env.get("references"):
        return [text]
    lines = text.split("\n")
    starts = sorted({token.map[0] for token in tokens if token.level == 0 and token.nesting >= 0 and token.map})
    parts, begin, chars = [], 0, 0
    for before, start in zip(starts, starts[1:]):
        chars += sum(len(line) + 1 for line in lines[before:start])
        if chars >= size and len(text) - sum(map(len, parts)) - chars >= size // 2:
            part = "\n".join(lines[begin:start]) + "\n"
            if _closed(part):
                parts.append(part)
                begin, chars = start, 0
    parts.append("\n".join(lines[begin:]))
    return parts


def _closed(part: str) -> bool:
    """No display math or LaTeX environment runs on past the end of ``part``: MathJax reads
    each output alone, and such math may hold blank lines that end a Markdown block."""
    return part.count("$$") % 2 == 0 and len(_BEGIN.findall(part)) == len(_END.findall(part))
