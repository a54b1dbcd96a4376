"""Growing Markdown in, display operations out: each finished block once, the rest cheaply.

A top-level block is finished once the next one has begun: later text cannot change how
it renders (reference-style link definitions aside). It is rendered once and sent once.
The block still being written is re-rendered whole while it is small. Once it is big,
it grows by appended pieces instead, so that no block, however long, costs more than
its own length:

- a table by rows (rendered with its header, sent as ``<tr>`` rows);
- a code fence by lines (escaped text in its ``<code>``);
- a paragraph (a one-line JSON reply, an endless thought) by runs of sentences rendered
  inline, the unfinished rest shown as text until it is cut;
- a list is cut between items into finished lists;
- anything else shows its text as it comes, and is re-parsed only when it has doubled.

:meth:`BlockStream.ops` returns what changed since its last call, as tuples:

``("b", html)``          a finished block, shown for good
``("t", html)``          the block in progress, whole (replaces the last ``t`` or ``g``)
``("g", html, point)``   the block in progress, to be grown at ``point`` (a CSS selector in it)
``("+", html)``          more of the growing block, appended at its point
``("p", html)``          the growing block's unfinished end (replaces the last ``p``)
``("s", html or None)``  the growing block is finished: kept as shown, or replaced by ``html``
"""
from __future__ import annotations

import functools
import re
from html import escape

from .html import render_inline, render_markdown

_NEWLINE = re.compile(r"\r\n?|\n")
_LISTS = ("bullet_list_open", "ordered_list_open")
#: A line that ends a paragraph or a table: blank, or the start of another kind of block.
_INTERRUPT = re.compile(r" {0,3}(?:$|#{1,6}(?:[ \t]|$)|```|~~~|>|[-*+][ \t]|1[.)][ \t]|(?:[-*_][ \t]*){3,}$)")
#: An unfinished line that may still become one of those.
_PREFIX = re.compile(r" {0,3}(?:#{1,6}|`{1,2}|~{1,2}|[-*+]|1[.)]?|(?:[-*_][ \t]*)+)?")
_SENTENCE = re.compile(r"(?<=[.!?。！？])[ \t]+(?=\S)")
_SPACE = re.compile(r"[ \t]+(?=\S)")
_WORDS = 160  # characters of a paragraph shown as plain text before it is cut between words


@functools.cache
def _parser():
    from markdown_it import MarkdownIt  # markdown-it: loaded when a reply is first shown

    # Block structure only; the same options as the renderer so both see the same blocks.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("inline")


class BlockStream:
    """Feed text as it streams; ``ops()`` says what to show since the last call.

    ``small`` (characters) is the size past which the block in progress grows by pieces.

    Example::

        stream = BlockStream()
        stream.feed("# Title\\n\\nSome text")
        stream.ops()   # [("b", "<h1>Title</h1>\\n"), ("t", "<p>Some text</p>\\n")]
    """

    def __init__(self, small: int = 1024):
        self.small = small
        self.chars = 0
        self._new: list[str] = []
        self._tail = ""  # the block in progress and anything after it, while it is re-rendered whole
        self._shown: str | None = None  # the tail as last sent
        self._growth: _Growth | None = None

    def feed(self, text: str) -> None:
        if text:
            self._new.append(text)
            self.chars += len(text)

    def ops(self) -> list[tuple]:
        new, self._new = "".join(self._new), []
        out: list[tuple] = []
        if self._growth is not None:
            rest = self._growth.take(new, out)
            if rest is None:
                return out
            self._growth, self._shown, self._tail = None, None, rest
        else:
            self._tail += new
        self._settle(out)
        return out

    def _settle(self, out: list[tuple]) -> None:
        doc = self._tail
        if not doc.strip():
            if self._shown:
                out.append(("t", ""))
            self._shown = "" if self._shown is not None else None
            return
        starts = [0] + [m.end() for m in _NEWLINE.finditer(doc)]
        partial = starts[-1] < len(doc)
        if not partial:
            starts.pop()
        tokens = _parser().parse(doc)
        tops = [i for i, t in enumerate(tokens) if t.level == 0 and t.nesting != -1 and t.map]
        k = len(tops) - 1
        if k > 0 and partial and tokens[tops[k]].map[0] == len(starts) - 1:
            # A block begun on an unfinished line may still join the one before ("2" becoming
            # "2. item" of a list) or not be a block at all ("#" becoming "#hashtag").
            before = tokens[tops[k - 1]]
            if before.type in _LISTS or before.map[1] == tokens[tops[k]].map[0]:
                k -= 1
        if k > 0:
            cut = starts[tokens[tops[k]].map[0]]
            out.append(("b", render_markdown(doc[:cut])))
            doc = self._tail = doc[cut:]
            self._shown = None
            if k < len(tops) - 1:  # the unfinished line may still join this block: show it whole
                return self._show_whole(doc, out)
            tokens = _parser().parse(doc)
            tops = [i for i, t in enumerate(tokens) if t.level == 0 and t.nesting != -1 and t.map]
            starts = [0] + [m.end() for m in _NEWLINE.finditer(doc)]
        elif k < len(tops) - 1:
            return self._show_whole(doc, out)
        if len(doc) <= self.small or not tops:
            return self._show_whole(doc, out)
        self._grow(doc, tokens, tops[-1], starts, out)

    def _show_whole(self, doc: str, out: list[tuple]) -> None:
        if doc != self._shown:
            out.append(("t", render_markdown(doc)))
            self._shown = doc

    def _grow(self, doc: str, tokens, at: int, starts: list[int], out: list[tuple]) -> None:
        """The block in progress is big: from now on it grows by pieces."""
        block = tokens[at]
        doc = doc[starts[block.map[0]]:]  # blank lines before it (left by a block that ended) show nothing
        starts = [start - starts[block.map[0]] for start in starts[block.map[0]:]]
        lines = doc.splitlines(keepends=True)
        if block.type == "fence" and (not block.markup or _closed(block, lines)):
            return self._show_whole(doc, out)  # complete: it changes no more
        if block.type == "fence":
            growth: _Growth = _Code(block.markup)
        elif block.type == "table_open" and len(lines) > 2:
            growth = _Table("".join(lines[:2]))
            doc = "".join(lines[2:])
        elif block.type == "paragraph_open":
            growth = _Paragraph(self.small)
        elif block.type in _LISTS:
            first = block.map[0]
            items = [t.map[0] - first for t in tokens[at + 1:] if t.type == "list_item_open" and t.level == 1]
            complete = len(lines) - (0 if doc.endswith(("\n", "\r")) else 1)
            items = [i for i in items if 0 < i < complete]
            if items:
                cut = starts[items[-1]]
                out.append(("b", render_markdown(doc[:cut])))
                self._tail, self._shown = doc[cut:], None
                return self._show_whole(self._tail, out)
            growth = _Raw()
        else:
            growth = _Raw()
        out.append(("g", *growth.start(doc)))
        self._growth, self._tail, self._shown = growth, "", None
        rest = growth.take(growth.initial, out)
        if rest is not None:
            self._growth, self._tail = None, rest
            self._settle(out)


def _closed(fence, lines: list[str]) -> bool:
    first, end = fence.map
    if end - 1 <= first or end > len(lines):
        return False
    line = lines[end - 1].rstrip("\r\n")
    char, n = fence.markup[0], len(fence.markup)
    return re.fullmatch(rf" {{0,3}}{re.escape(char)}{{{n},}}[ \t]*", line) is not None


class _Growth:
    """A big block shown by pieces; ``take`` returns the text after its end once it ends."""

    initial = ""

    def start(self, doc: str) -> tuple[str, str]:
        """The HTML that starts the block, the selector where pieces go; keeps ``initial`` to take."""
        raise NotImplementedError

    def take(self, new: str, out: list[tuple]) -> str | None:
        raise NotImplementedError


class _Scan(_Growth):
    """A block that ends at the start of a line: its text is taken as it comes, and held back
    only while the start of a line could still turn out to end it (a few characters)."""

    def __init__(self):
        self._held = ""
        self._at_start = True

    def take(self, new: str, out: list[tuple]) -> str | None:
        text, self._held = self._held + new, ""
        carry = ""
        if text.endswith("\r"):  # half of a "\r\n", perhaps: not a line end yet
            text, carry = text[:-1], "\r"
        pos, content, end = 0, [], None
        while pos < len(text):
            found = _NEWLINE.search(text, pos)
            stop = found.end() if found else len(text)
            if self._at_start:
                line = text[pos: found.start() if found else len(text)]
                if found is None and self.undecided(line):
                    self._held = text[pos:]
                    break
                taken = self.ends(line)
                if taken is not None:
                    end = stop if taken else pos
                    break
            content.append(text[pos:stop])
            pos, self._at_start = stop, found is not None
        self._held += carry
        self.grow("".join(content), out, ended=end is not None)
        if end is None:
            return None
        out.append(("s", None))
        return text[end:] + carry

    def undecided(self, line: str) -> bool:
        """Whether an unfinished line may still end the block."""
        return _PREFIX.fullmatch(line) is not None

    def ends(self, line: str) -> int | None:
        """None if ``line`` belongs to the block; else how many lines of it (0 or 1) the block takes."""
        return 0 if _INTERRUPT.match(line) else None

    def grow(self, text: str, out: list[tuple], ended: bool) -> None:
        raise NotImplementedError


class _Code(_Scan):
    def __init__(self, markup: str):
        super().__init__()
        self._close = re.compile(rf" {{0,3}}{re.escape(markup[0])}{{{len(markup)},}}[ \t]*")

    def start(self, doc: str) -> tuple[str, str]:
        opener, _, self.initial = doc.partition("\n")
        return render_markdown(opener + "\n"), "code"

    def undecided(self, line: str) -> bool:
        return re.fullmatch(r" {0,3}[`~]*[ \t]*", line) is not None

    def ends(self, line: str) -> int | None:
        return 1 if self._close.fullmatch(line) else None

    def grow(self, text: str, out: list[tuple], ended: bool) -> None:
        if text:
            out.append(("+", escape(text, quote=False)))


class _Table(_Scan):
    """Rows rendered under the table's header, each once it is complete."""

    def __init__(self, head: str):
        super().__init__()
        self._head = head
        self._row: list[str] = []

    def start(self, doc: str) -> tuple[str, str]:
        self.initial = doc
        return render_markdown(self._head).replace("</table>", "<tbody>\n</tbody>\n</table>"), "tbody"

    def grow(self, text: str, out: list[tuple], ended: bool) -> None:
        self._row.append(text)
        if not ended and not _NEWLINE.search(text):
            return
        rows = "".join(self._row)
        cut = len(rows) if ended else max(rows.rfind("\n"), rows.rfind("\r")) + 1
        self._row = [rows[cut:]]
        if rows[:cut].strip():
            body = render_markdown(self._head + rows[:cut])
            first = body.find("<tbody>\n")
            if first >= 0:
                out.append(("+", body[first + 8: body.rfind("</tbody>")]))


class _Paragraph(_Scan):
    """Runs of whole sentences rendered inline; the rest shows as text until it can be cut."""

    def __init__(self, small: int):
        super().__init__()
        self._small = small
        self._open = ""  # text of the paragraph not rendered yet
        self._shown = ""

    def start(self, doc: str) -> tuple[str, str]:
        self.initial = doc
        return "<p></p>", "p"

    def grow(self, text: str, out: list[tuple], ended: bool) -> None:
        self._open += text
        cut = len(self._open) if ended else _cut(self._open, self._small)
        if cut:
            out.append(("+", render_inline(self._open[:cut])))
            self._open = self._open[cut:]
        shown = "" if ended else escape(self._open + self._held, quote=False)
        if shown != self._shown:
            out.append(("p", shown))
            self._shown = shown


def _cut(text: str, small: int) -> int | None:
    """Where a paragraph's unrendered text can be cut without splitting inline code, emphasis or
    a link: after its last sentence, or after its last word once it is longer than a line or
    two (a JSON reply has no sentences), or anywhere once it is past ``small``."""
    patterns = (_SENTENCE, _SPACE) if len(text) > _WORDS else (_SENTENCE,)
    for pattern in patterns:
        for match in reversed(list(pattern.finditer(text, max(0, len(text) - small)))):
            head = text[: match.start()]
            if head.count("`") % 2 == 0 and head.count("*") % 2 == 0 and head.count("[") <= head.count("]"):
                return match.end()
    return len(text) if len(text) > small else None


class _Raw(_Growth):
    """Any other big block: its text as it comes; re-parsed when it has doubled, to find its end."""

    def __init__(self):
        self._text = ""
        self._checked = 0

    def start(self, doc: str) -> tuple[str, str]:
        # Complete lines rendered; the line being written goes on as text after them.
        lines = len(doc) - len(doc.splitlines()[-1]) if not doc.endswith(("\n", "\r")) else len(doc)
        self._text, self._checked, self.initial = doc[:lines], len(doc), doc[lines:]
        return render_markdown(self._text) + '<div class="jllm-raw"></div>', ".jllm-raw"

    def take(self, new: str, out: list[tuple]) -> str | None:
        if not new:
            return None
        self._text += new
        out.append(("+", escape(new, quote=False)))
        if len(self._text) < 2 * self._checked:
            return None
        self._checked = len(self._text)
        tokens = _parser().parse(self._text)
        tops = [t for t in tokens if t.level == 0 and t.nesting != -1 and t.map]
        if len(tops) < 3:  # the last block may be an unfinished line: keep it with this one
            return None
        lines = self._text.splitlines(keepends=True)
        cut = sum(len(line) for line in lines[: tops[-2].map[0]])
        out.append(("s", render_markdown(self._text[:cut])))
        return self._text[cut:]
