"""Split a growing Markdown text into finished pieces and the part still being written.

A top-level block is finished once the next one has begun: later text cannot change how
it renders (reference-style link definitions aside). Finished pieces are rendered once;
only the pending rest is re-rendered, which keeps a stream's display cost linear.

A single block that keeps growing (a long list, a long code fence) is cut as well, where
the pieces render alone nearly as they do together: between list items, or between lines
of an open code fence, which the cut closes and the pending rest re-opens.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass

_NEWLINE = re.compile(r"\r\n?|\n")
_LISTS = ("bullet_list_open", "ordered_list_open")


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch of the streamed text, and what it needs around it to render alone."""

    source: str
    prefix: str = ""
    suffix: str = ""

    @property
    def markdown(self) -> str:
        return self.prefix + self.source + self.suffix


@functools.cache
def _parser():
    from markdown_it import MarkdownIt

    # Block structure only; the same options as the renderer so both see the same blocks.
    return MarkdownIt("commonmark", {"html": False}).enable(["table", "strikethrough"]).disable("inline")


class BlockSplitter:
    """Feed text as it streams; ``split()`` hands out the pieces that became final.

    ``long_block`` is the size (in characters) past which one growing block is cut.

    Example::

        s = BlockSplitter()
        s.feed("# Title\\n\\nSome text")
        s.split()          # [Piece("# Title\\n\\n")]
        s.pending.source   # "Some text"
    """

    def __init__(self, long_block: int = 1024):
        self.long_block = long_block
        self._prefix = ""
        self._tail = ""

    def feed(self, text: str) -> None:
        self._tail += text

    @property
    def pending(self) -> Piece:
        """The text not yet final (``prefix`` re-opens a code fence cut earlier)."""
        return Piece(self._tail, self._prefix)

    def split(self) -> list[Piece]:
        """Freeze what is finished and return it (an empty list or one piece)."""
        doc = self._prefix + self._tail
        if not doc.strip():
            return []
        starts = [0] + [m.end() for m in _NEWLINE.finditer(doc)]
        partial = starts[-1] < len(doc)
        if not partial:
            starts.pop()
        tokens = _parser().parse(doc)
        offset, suffix, prefix = self._cut(doc, starts, partial, tokens)
        if not offset:
            return []
        piece = Piece(doc[len(self._prefix) : offset], self._prefix, suffix)
        self._prefix, self._tail = prefix, doc[offset:]
        return [piece]

    def _cut(self, doc, starts, partial, tokens):
        """Where to cut (an offset in ``doc``), the suffix closing the piece, the new prefix."""
        tops = [i for i, t in enumerate(tokens) if t.level == 0 and t.nesting != -1 and t.map]
        if not tops:
            return None, "", ""
        last_line = len(starts) - 1
        k = len(tops) - 1
        if k and partial and tokens[tops[k]].map[0] == last_line:
            # A block begun on an unfinished line may still join the one before ("2" becoming
            # "2. item" of a list) or not be a block at all ("#" becoming "#hashtag").
            before = tokens[tops[k - 1]]
            if before.type in _LISTS or before.map[1] == tokens[tops[k]].map[0]:
                k -= 1
        block = tokens[tops[k]]
        cut = starts[block.map[0]] if k else None
        if k == len(tops) - 1 and len(doc) - starts[block.map[0]] > self.long_block:
            inner = self._inner_cut(doc, starts, partial, tokens, tops[k])
            if inner is not None:
                return inner
        return cut, "", ""

    def _inner_cut(self, doc, starts, partial, tokens, at):
        block = tokens[at]
        complete = len(starts) - 1 if partial else len(starts)
        if block.type in _LISTS:
            items = [
                t.map[0]
                for t in tokens[at + 1 :]
                if t.type == "list_item_open" and t.level == 1 and block.map[0] < t.map[0] < complete
            ]
            return (starts[items[-1]], "", "") if items else None
        if block.type == "fence" and not _is_closed(doc, starts, block):
            # Keep the last complete line pending: a cut just before the closing fence
            # would leave an empty code block behind.
            cut = complete - 1
            if cut > block.map[0] + 1:
                first = block.map[0]
                opener = doc[starts[first] : starts[first + 1]]
                return starts[cut], block.markup + "\n", opener
        if block.type == "paragraph_open":
            # Reasoning often comes as one endless paragraph: cut after its last sentence.
            start = starts[block.map[0]]
            cut = _sentence_end(doc, start, len(doc) - 1)
            if cut is not None and cut - start >= self.long_block // 2:
                return cut, "", ""
        return None


_SENTENCE = re.compile(r"(?<=[.!?。！？])[ \t]+(?=\S)")


def _sentence_end(doc: str, start: int, stop: int) -> int | None:
    """Offset after the last sentence end in ``doc[start:stop]`` that splits no inline code
    or bold run (an even count of backticks and of ``**`` before it)."""
    for match in reversed(list(_SENTENCE.finditer(doc, start, stop))):
        head = doc[start : match.start()]
        if head.count("`") % 2 == 0 and head.count("**") % 2 == 0:
            return match.end()
    return None


def _is_closed(doc: str, starts: list[int], fence) -> bool:
    first, end = fence.map
    if end - 1 <= first:
        return False
    start = starts[end - 1]
    stop = starts[end] if end < len(starts) else len(doc)
    line = doc[start:stop].rstrip("\r\n")
    char, n = fence.markup[0], len(fence.markup)
    return re.fullmatch(rf" {{0,3}}{re.escape(char)}{{{n},}}[ \t]*", line) is not None
