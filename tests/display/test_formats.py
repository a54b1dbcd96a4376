"""The outputs of each -f format: rich view plus a text/plain fallback, HTML sanitised."""
from __future__ import annotations

import json

from jupyter_llm.display.formats import JSON_SHOWN, format_bundle


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


def test_a_json_reply_too_long_to_show_is_shown_by_its_head_and_what_it_holds():
    records = [{"id": i, "item": "flour"} for i in range(20_000)]
    content = "```json\n" + json.dumps(records, indent=2) + "\n```"
    assert len(content) > JSON_SHOWN
    bundle = format_bundle("json", content)
    assert "application/json" not in bundle
    assert sum(len(v) for v in bundle.values()) < 6_000
    assert bundle["text/plain"].startswith('[\n  {\n    "id": 0,')
    assert "a list of 20,000 items" in bundle["text/plain"] and "`_llm.parsed`" in bundle["text/markdown"]
    assert bundle["text/markdown"].startswith("```json\n[\n")


def test_a_json_answer_is_parsed_by_the_reader_given():
    seen = []
    bundle = format_bundle("json", '{"a": 1}', parse=lambda text: seen.append(text) or {"b": 2})
    assert seen == ['{"a": 1}'] and bundle["application/json"] == {"b": 2}
