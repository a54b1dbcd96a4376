"""safe_markdown: raw HTML from the model never runs; code, math and the rest read as written."""
from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from jupyter_llm.display.safe import safe_markdown


def raw_html(markdown: str) -> list[str]:
    """The raw HTML a CommonMark renderer (with HTML on, like JupyterLab) would emit."""
    found, stack = [], list(MarkdownIt("commonmark", {"html": True}).enable("table").parse(markdown))
    while stack:
        token = stack.pop()
        if token.type in ("html_block", "html_inline"):
            found.append(token.content)
        stack.extend(token.children or ())
    return found


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hi <script>alert(1)</script>!", "Hi &lt;script>alert(1)&lt;/script>!"),
        ("<img src=x onerror=alert(1)>", "&lt;img src=x onerror=alert(1)>"),
        ('<iframe src="//evil.example"></iframe>', '&lt;iframe src="//evil.example">&lt;/iframe>'),
        ("before <!-- hidden --> after", "before &lt;!-- hidden --> after"),
        ("<!DOCTYPE html> <?php x ?>", "&lt;!DOCTYPE html> &lt;?php x ?>"),
        ("<div>\n\n**bold** inside\n\n</div>", "&lt;div>\n\n**bold** inside\n\n&lt;/div>"),
        ("| a | <b>x</b> |\n|---|---|\n| 1 | 2 |", "| a | &lt;b>x&lt;/b> |\n|---|---|\n| 1 | 2 |"),
    ],
)
def test_tags_comments_and_declarations_are_escaped(text, expected):
    assert safe_markdown(text) == expected
    assert raw_html(safe_markdown(text)) == []


@pytest.mark.parametrize(
    "text",
    [
        "Use `<script>` tags and ``a `<b>` b`` spans.",
        "```html\n<script>alert(1)</script>\n<!-- c -->\n```",
        "~~~\n<img src=x onerror=alert(1)>\n~~~",
        "Text\n\n    <indented code>\n    </indented>\n",
        "- item\n\n  ```\n  <in a list>\n  ```",
        "> ```\n> <in a quote>\n> ```",
        "a < b, b > c, x<5, 1 <= 2, <> and < /x>",
        "$$\\sum_{i < n} x_i$$ and $x < y$",
        "| x | y |\n|---|---|\n| `<b>` | a < b |",
        "See <https://example.org/a?b=1> or write <someone@example.org>.",
        r"Escaped \<b> stays escaped.",
        "No angle brackets at all: **bold**, _em_, [link](https://example.org).",
    ],
)
def test_code_math_autolinks_and_plain_comparisons_are_untouched(text):
    assert safe_markdown(text) == text


def test_math_keeps_rendering_and_cannot_hold_a_tag():
    assert safe_markdown("$a<b$ and $$\\sum_{i<n}$$") == "$a< b$ and $$\\sum_{i< n}$$"
    assert raw_html(safe_markdown("$<script>alert(1)</script>$")) == []


@pytest.mark.parametrize(
    "text",
    [
        # An unclosed backtick is literal text, so the tag after it is live.
        "`unclosed <script>alert(1)</script>",
        # A code span cannot reach into a heading.
        "`foo\n# <script>alert(1)</script> `",
        # Escaping the comment turns it into a paragraph that swallows the indented line.
        "<!-- c -->\n    <script>alert(1)</script>\n",
        # The unindented line ends the list item and its fence.
        "- item\n\n  ```\n  code\n<script>alert(1)</script>\n  ```",
        # An unclosed fence runs to the end: all code, all shown as text.
        "Intro <b>x</b>\n\n```\n<script>alert(1)</script>",
        "<scr<script>ipt>alert(1)</script>",
        "[x](<javascript:alert(1)>) <javascript:alert(1)>",
        "*<em onmouseover=alert(1)>*",
    ],
)
def test_broken_or_tricky_markdown_leaves_no_raw_html(text):
    assert raw_html(safe_markdown(text)) == []


def test_a_span_that_starts_on_one_line_and_ends_on_the_next_is_still_code():
    text = "`foo\nbar` <script>x()</script> `baz <b>`"
    assert safe_markdown(text) == "`foo\nbar` &lt;script>x()&lt;/script> `baz <b>`"
