"""The outputs of each -f format: rich view plus a text/plain fallback, HTML sanitised."""
from __future__ import annotations

from jupyter_llm.display.formats import format_bundle


def test_every_format_has_a_plain_fallback():
    for name in ("markdown", "text", "code", "json", "html", "math"):
        assert format_bundle(name, 'Say ```json\n{"a": 1}\n```')["text/plain"]


def test_json_bundle_is_a_tree_and_pretty_text():
    bundle = format_bundle("json", 'Here:\n```json\n{"a": [1, 2]}\n```')
    assert bundle["application/json"] == {"a": [1, 2]}
    assert bundle["text/plain"] == '{\n  "a": [\n    1,\n    2\n  ]\n}'
    assert format_bundle("json", "not json") == {"text/plain": "not json"}


def test_code_bundle_is_the_code_alone():
    bundle = format_bundle("code", "Use this:\n```python\nprint('```')\n```\nDone.")
    assert bundle["text/plain"] == "print('```')"
    assert bundle["text/markdown"] == "````python\nprint('```')\n````"


def test_html_bundle_runs_no_script():
    bundle = format_bundle("html", '```html\n<table onmouseover="x()"><tr><td>1</td></tr></table>'
                                   '<script>alert(1)</script>\n```')
    assert bundle["text/html"] == "<table><tbody><tr><td>1</td></tr></tbody></table>"


def test_math_bundle_is_latex():
    bundle = format_bundle("math", "$$\\frac{a}{b} < 1$$")
    assert bundle["text/latex"] == "$$\n\\frac{a}{b} < 1\n$$" and bundle["text/plain"] == "\\frac{a}{b} < 1"


def test_text_bundle_is_plain_only():
    assert format_bundle("text", "**not bold**") == {"text/plain": "**not bold**"}
