"""BlockSplitter: finished Markdown is frozen, the rest stays pending, nothing is lost."""
from __future__ import annotations

import random

import pytest

from jupyter_llm.display.blocks import BlockSplitter, Piece
from jupyter_llm.display.html import render_markdown

DOC = """# Loading the data

The frame has **three** columns; `df.mean()` gives the means. A long sentence follows here so
that the paragraph spans lines, with a [link](https://example.org) and ~~struck~~ text.

- first item
- second item with `code`

  still the second item, after a blank line
- third item

1. one
2. two

3. three, loose now

```python
import pandas as pd


def mean(df):  # blank lines above stay inside the fence
    return df.mean()
```

| column | mean |
|---|---:|
| a | 1.5 |
| b | 2.0 |

> A quote
> on two lines

    indented code

    more indented code

Setext heading
--------------

para
#tag is not a heading

Last paragraph without a newline at the end"""


def stream(text: str, splitter: BlockSplitter, seed: int, check=None) -> list[Piece]:
    rng = random.Random(seed)
    pieces, i = [], 0
    while i < len(text):
        n = rng.randint(1, 12)
        splitter.feed(text[i : i + n])
        i += n
        pieces += splitter.split()
        if check:
            check(text[:i], pieces, splitter.pending)
    return pieces


def joined(pieces, pending) -> str:
    return "".join(p.source for p in pieces) + pending.source


def rendered(pieces, pending) -> str:
    return "".join(render_markdown(p.markdown) for p in pieces) + render_markdown(pending.markdown)


@pytest.mark.parametrize("seed", range(8))
def test_frozen_and_pending_always_join_to_the_text_and_render_as_the_whole(seed):
    def check(so_far, pieces, pending):
        assert joined(pieces, pending) == so_far
        assert rendered(pieces, pending) == render_markdown(so_far)

    pieces = stream(DOC, BlockSplitter(long_block=10**9), seed, check)
    assert len(pieces) >= 8


@pytest.mark.parametrize("seed", range(4))
def test_long_blocks_are_cut_and_still_join_to_the_text(seed):
    code = "```python\n" + "".join(f"x_{i} = {i}  # line {i}\n" for i in range(80)) + "```\n\n"
    items = "".join(f"{i}. item number {i} with some words\n\n" for i in range(1, 40))
    text = code + items + "The end.\n"

    def check(so_far, pieces, pending):
        assert joined(pieces, pending) == so_far
        assert len(pending.markdown) < 400

    pieces = stream(text, BlockSplitter(long_block=200), seed, check)
    fence_parts = [p for p in pieces if p.suffix == "```\n"]
    assert len(fence_parts) >= 5
    for part in fence_parts:
        html = render_markdown(part.markdown)
        assert html.startswith('<pre><code class="language-python">') and html.count("<pre>") == 1
    assert any(render_markdown(p.markdown).startswith('<ol start="') for p in pieces)


def test_a_block_is_final_once_the_next_begins_token_by_token():
    s = BlockSplitter()
    for char in "First paragraph.\n\n":
        s.feed(char)
        assert s.split() == []
    s.feed("S")
    assert s.split() == [Piece("First paragraph.\n\n")]
    assert s.pending == Piece("S")


def test_a_fence_with_blank_lines_stays_whole_until_closed():
    s = BlockSplitter()
    s.feed("```\na = 1\n\n\nb = 2\n")
    assert s.split() == []
    s.feed("```\n\nafter")
    assert s.split() == [Piece("```\na = 1\n\n\nb = 2\n```\n\n")]


def test_a_loose_list_stays_whole_and_a_number_may_still_continue_it():
    s = BlockSplitter()
    s.feed("1. one\n\n2. two\n\n3")
    assert s.split() == []  # "3" may become "3. three"
    s.feed(". three\n\nAfter the list.")
    assert s.split() == []  # after a list, a block counts once its first line is complete
    s.feed("\n")
    (piece,) = s.split()
    assert piece.source == "1. one\n\n2. two\n\n3. three\n\n"
    assert render_markdown(piece.markdown).count("<li>") == 3


def test_a_line_that_may_not_be_a_block_does_not_end_the_paragraph():
    s = BlockSplitter()
    s.feed("para\n#")  # "#" alone is a heading, "#tag" is not
    assert s.split() == []
    s.feed("tag\n\nnext")
    assert s.split() == [Piece("para\n#tag\n\n")]


def test_a_table_is_one_block():
    s = BlockSplitter()
    s.feed("| a | b |\n|---|---|\n| 1 | 2 |\n| 3 | 4 |\n")
    assert s.split() == []
    s.feed("\nText")
    (piece,) = s.split()
    assert render_markdown(piece.markdown).count("<tr>") == 3


def test_a_long_open_fence_is_closed_and_reopened():
    s = BlockSplitter(long_block=30)
    s.feed("~~~~js\n" + "".join(f"f({i});\n" for i in range(10)))
    (piece,) = s.split()
    assert piece.prefix == "" and piece.suffix == "~~~~\n"
    assert s.pending.prefix == "~~~~js\n"
    assert s.pending.source == "f(9);\n"  # the last line waits: it may precede the closing fence
    s.feed("~~~~\n\ndone")
    (closing,) = s.split()
    assert closing == Piece("f(9);\n~~~~\n\n", prefix="~~~~js\n")
    assert render_markdown(closing.markdown) == '<pre><code class="language-js">f(9);\n</code></pre>\n'


def test_whitespace_and_crlf():
    s = BlockSplitter()
    s.feed("   \n\n")
    assert s.split() == []
    s.feed("one\r\n\r\ntwo")
    pieces = s.split()
    assert joined(pieces, s.pending) == "   \n\none\r\n\r\ntwo"
