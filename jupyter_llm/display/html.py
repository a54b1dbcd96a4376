"""Markdown to HTML in the kernel, and the MIME bundles of a finished reply's outputs.

Each bundle pairs rich text with a ``text/plain`` fallback, so a saved notebook reads
well anywhere, and depends only on the reply (and the reasoning time), so nbval sees the
same outputs on every run.
"""
from __future__ import annotations

import functools
import json
from html import escape

from ..core.markdown import image_allowed, safe_markdown, strip_controls
from .parts import markdown_parts

_SMALL = "color: grey; font-size: 0.85em"
# A folded part (reasoning, a tool call) framed like the live view's accordion, in JupyterLab's
# theme colours (so the dark theme works), with plain fallbacks for other front ends.
_DETAILS = ("border: 1px solid var(--jp-border-color1, #bdbdbd); border-radius: 2px; margin: 0 0 0.6em 0; "
            "background-color: var(--jp-layout-color1, transparent)")
_SUMMARY = ("padding: 4px 10px; cursor: pointer; font-weight: bold; color: var(--jp-ui-font-color2, #616161); "
            "background-color: var(--jp-layout-color2, #eeeeee)")
_INSIDE = "padding: 2px 14px; color: var(--jp-ui-font-color1, inherit)"
#: Characters of a reply kept whole in the ``text/plain`` fallback.
PLAIN_LIMIT = 2000


@functools.cache
def _markdown():
    from markdown_it import MarkdownIt

    # html=False: raw HTML from the model is shown as text, never run.
    md = MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"])

    def link_open(self, tokens, idx, options, env):
        # Without a target, a click would navigate JupyterLab itself away.
        tokens[idx].attrSet("target", "_blank")
        tokens[idx].attrSet("rel", "noopener")
        return self.renderToken(tokens, idx, options, env)

    def image(self, tokens, idx, options, env):
        token = tokens[idx]
        src = token.attrGet("src") or ""
        if image_allowed(src):
            return self.image(tokens, idx, options, env)
        # A remote image is a link: loading it would send a request the model chose.
        label = self.renderInlineAsText(token.children or [], options, env) or src
        return (f'<a href="{escape(src)}" target="_blank" rel="noopener noreferrer">'
                f'{escape(label)}</a>')

    md.add_render_rule("link_open", link_open)
    md.add_render_rule("image", image)
    return md


def render_markdown(text: str) -> str:
    """HTML for ``text`` (CommonMark, tables, strikethrough; raw HTML escaped; remote images
    as links unless the session allows them; terminal escape sequences removed)."""
    return _markdown().render(strip_controls(text))


def render_inline(text: str) -> str:
    """HTML for ``text`` as the inside of a paragraph: a piece of a long one, streamed."""
    return _markdown().renderInline(text)


def reasoning_header(chars: int, seconds: float | None, *, thinking: bool = False) -> str:
    """``Reasoning · 1,234 chars · 3.2 s`` (``Thinking… 1,234 chars · 2.1 s`` while it lasts)."""
    parts = [f"Thinking… {chars:,} chars" if thinking else f"Reasoning · {chars:,} chars"]
    if seconds is not None:
        parts.append(f"{seconds:.1f} s")
    return " · ".join(parts)


def reasoning_bundle(reasoning: str, seconds: float | None) -> dict:
    """A collapsed ``<details>`` with the rendered reasoning, and a plain-text fallback."""
    header = reasoning_header(len(reasoning), seconds)
    facts = [f"{len(reasoning):,} chars"] + ([f"{seconds:.1f} s"] if seconds is not None else [])
    return {
        "text/plain": f"Reasoning ({', '.join(facts)}):\n{plain_preview(reasoning)}",
        "text/html": _details(header, render_markdown(reasoning)),
    }


def answer_bundle(content: str) -> dict:
    return {"text/plain": plain_preview(content), "text/markdown": safe_markdown(content)}


def answer_bundles(content: str) -> list[dict]:
    """The answer's outputs: one, or for a long answer its consecutive parts (``parts.py``),
    so a front end renders it a piece at a time. The first holds the plain-text preview of
    the whole answer; the others are Markdown alone, so a plain-text reader sees one answer."""
    bundle = answer_bundle(content)
    first, *rest = markdown_parts(bundle["text/markdown"])
    return [{**bundle, "text/markdown": first}] + [{"text/markdown": part} for part in rest]


def plain_preview(text: str, limit: int = PLAIN_LIMIT) -> str:
    """``text`` for ``text/plain``: whole when short, else its start and what was left out.

    Front ends show the rich form; a second full copy in plain text would double what
    every long reply costs to send and to save, for readers that never show it. Terminal
    front ends act on escape sequences in ``text/plain``: they are removed.
    """
    text = strip_controls(text)
    if len(text) <= limit:
        return text
    cut = text.rfind("\n", 0, limit)
    cut = cut if cut > limit // 2 else limit
    return f"{text[:cut]}\n… ({len(text) - cut:,} more characters in the rich output and in _llm)"


def tool_calls_bundle(calls, limit: int = 300) -> dict:
    """A short list of the calls the model asked for: name and JSON arguments."""
    lines = [f"{call.name}({_arguments(call.arguments_json, limit)})" for call in calls]
    markdown = "**Tool calls**\n\n" + "".join(f"- {_code_span(line)}\n" for line in lines)
    plain = "Tool calls:\n" + "".join(f"  {line}\n" for line in lines)
    return {"text/plain": plain.rstrip("\n"), "text/markdown": safe_markdown(markdown)}


def tool_card_bundle(result, limit: int = PLAIN_LIMIT) -> dict:
    """One tool call as a collapsed ``<details>`` card: name, arguments, status, duration, result."""
    call = result.call
    pretty = _pretty(call.arguments_json)
    header = _card_header(call.name, result.status, result.seconds)
    label = "Error" if result.error else "Result"
    return {
        "text/plain": f"{header}\n  arguments: {' '.join(pretty.split())}\n  {label.lower()}: {plain_preview(result.content, 300)}",
        "text/html": _card(header, pretty, plain_preview(result.content, limit), failed=bool(result.error)),
    }


def tool_live_html(name: str, arguments: str, status=None, limit: int = 60) -> str:
    """A tool call in the live view: a grey line while the model writes it, an open card
    while it runs, the collapsed card once it has run (``status``: a ToolStatus)."""
    if status is None:
        shown = arguments if len(arguments) <= limit else arguments[: limit - 1] + "…"
        return f'<div style="{_SMALL}">{escape(f"⚙ {name}({shown})")}</div>'
    pretty = _pretty(arguments)
    if status.status == "running":
        return _card(f"⚙ {name} · running…", pretty, None, open=True)
    header = _card_header(name, status.status, status.seconds or 0.0)
    return _card(header, pretty, plain_preview(status.result, PLAIN_LIMIT), failed=status.status == "failed")


def _card_header(name: str, status: str, seconds: float) -> str:
    # "0.01 s": the form the nbval sanitizer turns into "T s", so reruns compare equal.
    return f"⚙ {name} · {status} · {seconds:.2f} s"


def _card(header: str, arguments: str, body: str | None, *, failed: bool = False, open: bool = False) -> str:
    html = f'<div style="{_SMALL}">Arguments</div><pre>{escape(arguments)}</pre>'
    if body is not None:
        colour = "#b00020" if failed else "inherit"
        html += (f'\n<div style="{_SMALL}">{"Error" if failed else "Result"}</div>'
                 f'<pre style="color: {colour}; white-space: pre-wrap">{escape(body)}</pre>')
    return _details(header, html, open=open)


def _details(header: str, inside: str, *, open: bool = False) -> str:
    """A framed ``<details>``: ``header`` (plain text) as its summary, ``inside`` (HTML) below."""
    return (f'<details{" open" if open else ""} style="{_DETAILS}"><summary style="{_SUMMARY}">{escape(header)}'
            f'</summary>\n<div style="{_INSIDE}">{inside}</div></details>')


def _pretty(arguments_json: str) -> str:
    try:
        return json.dumps(json.loads(arguments_json or "{}"), indent=2, ensure_ascii=False)
    except json.JSONDecodeError:
        return arguments_json


def refusal_bundle(refusal: str) -> dict:
    """The model's refusal, said as such: it declined rather than answered."""
    text = f"The model refused: {refusal}"
    return {"text/plain": text, "text/markdown": f"*The model refused:* {safe_markdown(refusal)}"}


def usage_bundle(line: str) -> dict:
    """The reply's one-line summary, small and grey."""
    return {"text/plain": line, "text/html": f'<div style="{_SMALL}">{escape(line)}</div>'}


def _arguments(arguments_json: str, limit: int) -> str:
    try:
        text = json.dumps(json.loads(arguments_json or "{}"), ensure_ascii=False)
    except json.JSONDecodeError:
        text = " ".join(arguments_json.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _code_span(text: str) -> str:
    """``text`` as one inline code span, whatever backticks it holds."""
    fence = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _longest_backtick_run(text: str) -> int:
    longest = run = 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return longest
