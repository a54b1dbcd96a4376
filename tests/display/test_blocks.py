"""BlockStream: each finished block is sent once, a big block grows by pieces, nothing is lost."""
from __future__ import annotations

import html
import json
import random
import re

import pytest

from jupyter_llm.display.blocks import BlockStream
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




class Shown:
    """One column of the live view as its front end builds it from the operations."""

    def __init__(self):
        self.blocks, self.tail, self.pieces, self.partial = [], "", [], ""
        self.sent = 0
        self.raw = False  # the growing block shows its text as it comes, not rendered

    def apply(self, ops) -> None:
        for code, *args in ops:
            self.sent += sum(len(a) for a in args if isinstance(a, str))
            if code == "b":
                self.blocks.append(args[0])
            elif code in "tg":
                self.tail, self.pieces, self.partial = args[0], [], ""
                self.raw = code == "g" and args[1] == ".jllm-raw"
            elif code == "+":
                self.pieces.append(args[0])
            elif code == "p":
                self.partial = args[0]
            elif code == "s":
                self.blocks.append(args[0] if args[0] is not None else self.tail + "".join(self.pieces))
                self.tail, self.pieces, self.partial, self.raw = "", [], "", False

    @property
    def html(self) -> str:
        return self.rendered + self.partial

    @property
    def rendered(self) -> str:
        """All but what a growing block shows as plain text."""
        return "".join(self.blocks) + self.tail + ("" if self.raw else "".join(self.pieces))


def words(text: str) -> list[str]:
    return re.findall(r"\w+", html.unescape(re.sub(r"<[^>]*>", " ", text)))


def stream(text: str, small: int = 1024, seed: int = 0, sizes=(1, 12), check=None) -> Shown:
    rng, splitter, shown, i = random.Random(seed), BlockStream(small), Shown(), 0
    while i < len(text):
        n = rng.randint(*sizes)
        splitter.feed(text[i: i + n])
        i += n
        shown.apply(splitter.ops())
        if check:
            check(text[:i], shown)
    return shown


@pytest.mark.parametrize("small", [10**9, 200, 60])
@pytest.mark.parametrize("seed", range(4))
def test_what_is_shown_is_always_the_text_so_far_in_order(seed, small):
    def check(so_far, shown):
        # Every word of the text so far is shown, in order, bar the line being typed.
        expected = words(render_markdown(so_far))
        got = words(shown.rendered)[:-1]  # a piece may end mid-word, its rest still unrendered
        assert got == expected[: len(got)]
        complete = so_far[: so_far.rfind("\n") + 1]
        assert shown.raw or len(words(shown.html)) >= len(words(render_markdown(complete))) - 3

    shown = stream(DOC + "\n", small, seed, check=check)
    assert words(shown.html) == words(render_markdown(DOC))


def test_when_every_block_is_small_the_view_is_the_rendered_text():
    shown = stream(DOC, 10**9, seed=1)
    assert shown.html == render_markdown(DOC)
    assert len(shown.blocks) >= 8


@pytest.mark.parametrize("kind", ["table", "json", "code", "paragraph", "list", "quote"])
def test_any_block_costs_in_proportion_to_its_length(kind):
    def text(n: int) -> str:
        if kind == "table":
            return "| row | value | code |\n|---|---:|---|\n" + "".join(f"| row {i} | {i * 3} | `x{i}` |\n" for i in range(n))
        if kind == "json":
            return json.dumps({f"key{i}": [i, f"value {i}", None] for i in range(n)})
        if kind == "code":
            return "```python\n" + "".join(f"x_{i} = {i}  # line {i}\n" for i in range(n))
        if kind == "paragraph":
            return " ".join(f"Sentence number {i} has **bold** and `code` in it." for i in range(n))
        if kind == "list":
            return "".join(f"- item {i}\n  continued\n" for i in range(n))
        return "".join(f"> quoted line {i}\n" for i in range(n))

    sent = []
    for n in (500, 1000, 2000):
        shown = stream(text(n), seed=n, sizes=(50, 400))
        sent.append(shown.sent / len(text(n)))
        assert words(shown.html) == words(render_markdown(text(n)))[: len(words(shown.html))]
    # Quadratic cost would double the bytes per reply byte each time the text doubles.
    assert sent[2] <= 1.25 * sent[0], sent
    assert max(sent) <= 4, sent


def test_a_big_table_grows_by_rows_and_the_text_after_it_is_a_block_again():
    rows = "".join(f"| {i} | {i * 2} |\n" for i in range(200))
    splitter, shown = BlockStream(small=100), Shown()
    splitter.feed("| a | b |\n|---|---|\n" + rows)
    shown.apply(ops := splitter.ops())
    assert ops[0] == ("g", ops[0][1], "tbody") and "<th>a</th>" in ops[0][1]
    splitter.feed("| 200 | 400 |\n")
    shown.apply(ops := splitter.ops())
    assert ops == [("+", "<tr>\n<td>200</td>\n<td>400</td>\n</tr>\n")]
    splitter.feed("\nAfter the table.")
    shown.apply(ops := splitter.ops())
    assert ops == [("s", None), ("t", "<p>After the table.</p>\n")]
    assert shown.html.count("<tr>") == 202


def test_a_big_fence_grows_by_text_and_ends_at_its_closing_line():
    splitter = BlockStream(small=30)
    splitter.feed("~~~~js\n" + "".join(f"f({i});\n" for i in range(10)))
    ops = splitter.ops()
    assert ops[0] == ("g", '<pre><code class="language-js"></code></pre>\n', "code")
    assert "".join(op[1] for op in ops[1:]) == "".join(f"f({i});\n" for i in range(10))
    splitter.feed("f(<b>)")  # mid-line: shown at once, escaped
    assert splitter.ops() == [("+", "f(&lt;b&gt;)")]
    splitter.feed(";\n~~")  # "~~" may become the closing fence: held back
    assert splitter.ops() == [("+", ";\n")]
    splitter.feed("~~\n\ndone")
    assert splitter.ops() == [("s", None), ("t", "<p>done</p>\n")]


def test_a_long_paragraph_is_rendered_a_run_of_sentences_at_a_time():
    splitter = BlockStream(small=100)
    text = " ".join(f"Sentence {i} with `a. b` code." for i in range(20))
    splitter.feed(text)
    ops = splitter.ops()
    assert ops[0] == ("g", "<p></p>", "p")
    appended = [op[1] for op in ops if op[0] == "+"]
    assert appended and all(piece.count("<code>") == piece.count("</code>") for piece in appended)
    splitter.feed(" And the last")
    (partial,) = [op for op in splitter.ops() if op[0] == "p"]
    assert partial[1].endswith("And the last")


def test_a_block_is_final_once_the_next_begins_token_by_token():
    splitter = BlockStream()
    for char in "First paragraph.\n\n":
        splitter.feed(char)
        assert all(op[0] == "t" for op in splitter.ops())
    splitter.feed("S")
    assert splitter.ops() == [("b", "<p>First paragraph.</p>\n"), ("t", "<p>S</p>\n")]


def test_a_loose_list_stays_whole_and_a_number_may_still_continue_it():
    splitter = BlockStream()
    splitter.feed("1. one\n\n2. two\n\n3")
    assert [op[0] for op in splitter.ops()] == ["t"]  # "3" may become "3. three"
    splitter.feed(". three\n\nAfter the list.")
    assert [op[0] for op in splitter.ops()] == ["t"]  # after a list, a block counts once its first line is complete
    splitter.feed("\n")
    block, tail = splitter.ops()
    assert block[0] == "b" and block[1].count("<li>") == 3 and tail == ("t", "<p>After the list.</p>\n")


def test_a_line_that_may_not_be_a_block_does_not_end_the_paragraph():
    splitter = BlockStream()
    splitter.feed("para\n#")  # "#" alone is a heading, "#tag" is not
    splitter.ops()
    splitter.feed("tag\n\nnext")
    assert splitter.ops()[0] == ("b", "<p>para\n#tag</p>\n")


def test_whitespace_and_crlf():
    shown = stream("   \n\none\r\n\r\ntwo\r\n" + "| a |\r\n|---|\r\n" + "| 1 |\r\n" * 50 + "\r\nend", small=20,
                   sizes=(1, 3))
    assert words(shown.html) == words(render_markdown("one\n\ntwo\n\n| a |\n|---|\n" + "| 1 |\n" * 50 + "\nend"))
    assert shown.html.count("<tr>") == 51
