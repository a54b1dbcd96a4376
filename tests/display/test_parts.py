"""A long answer cut into parts: whole again when joined, never cut inside a block."""
from jupyter_llm.display.html import answer_bundles
from jupyter_llm.display.parts import markdown_parts

SECTION = """## Section {i}

Some words about window sizes, enough of them to fill a line or two of a reply.

| size | noise |
|---:|---|
{rows}
```python
def smooth(series):
    return series.rolling({i}).mean()

print(smooth)
```

- one point
- another point

  with a paragraph inside the item
"""


def _answer(sections: int) -> str:
    rows = "".join(f"| {n} | {n * 7 % 13} |\n" for n in range(40))
    return "\n".join(SECTION.format(i=i, rows=rows) for i in range(sections))


def test_a_short_answer_stays_whole():
    text = _answer(3)
    assert markdown_parts(text) == [text]


def test_a_long_answer_joins_back_exactly_and_each_part_starts_a_section_or_block():
    text = _answer(60)
    parts = markdown_parts(text, size=4000)
    assert len(parts) > 5
    assert "".join(parts) == text
    for part in parts:
        assert part.count("```") % 2 == 0, "a code fence is never cut"
        assert not part.startswith(("|", "  ", "with a paragraph")), "never inside a table or a list"
        assert len(part) >= 2000


def test_the_same_answer_is_cut_the_same_way():
    text = _answer(40)
    assert markdown_parts(text, size=3000) == markdown_parts(text, size=3000)


def test_display_math_that_spans_paragraphs_stays_in_one_part():
    filler = "A paragraph of plain words about rolling windows.\n\n" * 30
    math = "$$\n\\begin{aligned}\na &= 1\n\n b &= 2\n\\end{aligned}\n$$\n\n"
    text = filler + math + filler
    for part in markdown_parts(text, size=len(filler) - 10):
        assert part.count("$$") % 2 == 0


def test_link_references_keep_the_answer_whole():
    text = _answer(60) + "\nSee [the docs][docs].\n\n[docs]: https://example.org\n"
    assert markdown_parts(text, size=4000) == [text]


def test_only_the_first_output_carries_the_plain_text_preview():
    text = _answer(200)
    bundles = answer_bundles(text)
    assert len(bundles) > 1
    assert "text/plain" in bundles[0] and all(set(b) == {"text/markdown"} for b in bundles[1:])
    assert "".join(b["text/markdown"] for b in bundles) == text
