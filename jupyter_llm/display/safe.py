"""Make model-written Markdown safe to hand to a front end that renders raw HTML.

JupyterLab renders trusted ``text/markdown`` with its raw HTML, so a ``<script>`` or an
``<img onerror=...>`` in a reply would run in the page. Every ``<`` that could open a tag,
comment or declaration becomes ``&lt;``, except in code, where Markdown shows it as it is.
Inside ``$..$`` math the ``<`` gets a space instead (invisible to TeX, fatal to a tag),
so the result is safe whether or not a renderer takes it for math.

Where code starts and ends is decided by a CommonMark parser; the result is parsed again
and, should any raw HTML survive (the scan and the parser disagreed), escaped more widely.
"""
from __future__ import annotations

import functools
import re

_TAG_START = re.compile(r"<(?=[A-Za-z/!?])")
_AUTOLINK = re.compile(r"<(?:(?:https?|mailto|ftp):[^\s<>]*|[\w.+-]+@[\w-]+(?:\.[\w-]+)+)>", re.ASCII)
_LINE = re.compile(r"[^\r\n]*(?:\r\n?|\n)|[^\r\n]+")  # lines as CommonMark counts them
_PUNCTUATION = frozenset(r"""!"#$%&'()*+,-./:;<=>?@[\]^_`{|}~""")


def safe_markdown(text: str) -> str:
    """``text`` with raw HTML neutralised and code, math and the rest left as written.

    Example::

        safe_markdown("Hi <script>alert(1)</script> `<b>`")
        # 'Hi &lt;script>alert(1)&lt;/script> `<b>`'
    """
    if "<" not in text:
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


# Model-written HTML (``%%llm -f html``) is rebuilt from an allow-list: only these tags and
# attributes survive, URLs must be web links (or inline images), and the contents of
# script-like elements are dropped whole. Anything else keeps its text, never its markup.
_HTML_TAGS = frozenset("""a abbr article aside b bdi bdo blockquote br caption cite code col colgroup dd del
details dfn div dl dt em figcaption figure footer h1 h2 h3 h4 h5 h6 header hr i img ins kbd li main mark
nav ol p pre q s samp section small span strong sub summary sup table tbody td tfoot th thead time tr u ul
var wbr""".split())
_HTML_DROPPED = frozenset("""script style iframe frame frameset object embed applet template noscript
svg math head title textarea select button form input link meta base noembed xmp plaintext""".split())
_HTML_VOID = frozenset("br col hr img wbr".split())
_HTML_ATTRIBUTES = frozenset("""href src alt title width height colspan rowspan align valign scope start
reversed open datetime cite lang dir abbr headers span""".split())
_SAFE_URL = re.compile(r"(?:https?:|mailto:|#|/|\./|\.\./|[^:/?#]*(?:[/?#]|$))", re.I)
_RISKY_STYLE = re.compile(r"url\s*\(|expression|javascript|@import|position|behavior|-moz-binding", re.I)


def safe_html(text: str) -> str:
    """``text`` as HTML that cannot run code: no scripts, no event handlers, no javascript: URLs.

    Example::

        safe_html('<b onclick="x()">hi</b><script>alert(1)</script>')  # '<b>hi</b>'
    """
    from html.parser import HTMLParser

    out: list[str] = []
    skipping: list[str] = []

    class _Cleaner(HTMLParser):
        def handle_starttag(self, tag, attrs):
            if skipping or tag in _HTML_DROPPED:
                if tag not in _HTML_VOID and tag not in ("link", "meta", "base", "input"):
                    skipping.append(tag)
                return
            if tag in _HTML_TAGS:
                out.append(_open_tag(tag, attrs))

        def handle_startendtag(self, tag, attrs):
            if not skipping and tag in _HTML_TAGS:
                out.append(_open_tag(tag, attrs))

        def handle_endtag(self, tag):
            if skipping:
                if tag == skipping[-1]:
                    skipping.pop()
                return
            if tag in _HTML_TAGS and tag not in _HTML_VOID:
                out.append(f"</{tag}>")

        def handle_data(self, data):
            if not skipping:
                out.append(_escape_text(data))

    cleaner = _Cleaner(convert_charrefs=True)
    cleaner.feed(text)
    cleaner.close()
    return "".join(out)


def _escape_text(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _open_tag(tag: str, attrs) -> str:
    from html import escape

    kept = []
    for name, value in attrs:
        value = value or ""
        if name == "style":
            if _RISKY_STYLE.search(value):
                continue
        elif name not in _HTML_ATTRIBUTES:
            continue  # on* handlers and everything else unknown
        if name in ("href", "src", "cite") and not _safe_url(value, image=(tag == "img" and name == "src")):
            continue
        kept.append(f' {name}="{escape(value, quote=True)}"')
    if tag == "a":
        kept.append(' target="_blank" rel="noopener noreferrer"')
    return f"<{tag}{''.join(kept)}>"


def _safe_url(url: str, *, image: bool) -> bool:
    # Browsers ignore control characters and spaces inside a scheme ("java\nscript:").
    compact = re.sub(r"[\x00-\x20]", "", url)
    if image and re.match(r"data:image/(png|jpeg|gif|webp);base64,", compact, re.I):
        return True
    return bool(_SAFE_URL.match(compact))
