"""Reading replies as code, JSON, HTML and math, from the wrappings models put around them."""
from __future__ import annotations

import json

import pytest

from jupyter_llm import errors
from jupyter_llm.core.formats import check, extract_code, html_source, is_python, math_source, parse_json


@pytest.mark.parametrize("text, value", [
    ('{"a": 1}', {"a": 1}),
    ('Sure, here it is:\n```json\n{"a": [1, 2]}\n```\nAnything else?', {"a": [1, 2]}),
    ("```\n[1, 2, 3]\n```", [1, 2, 3]),
    ('The answer is {"city": "Paris", "nested": {"x": 1}} as requested.', {"city": "Paris", "nested": {"x": 1}}),
    ("  42  ", 42),
    ('{"名字": "数据"}', {"名字": "数据"}),
    ('~~~json\n  {"a": 1}  \n~~~\n', {"a": 1}),
    ('```json\n{"a": 1}\n```\n\nAnd another:\n```json\n{"b": 2}\n```', {"a": 1}),
    ('```python\nx = 1\n```\n```json\n[1]\n```', [1]),
    ("[1, 2] is the list.", [1, 2]),
])
def test_json_is_found_in_its_wrapping(text, value):
    assert parse_json(text) == value


@pytest.mark.parametrize("text", ["Three primes: 2, 3 and 5.", '```json\n{"a": 1,}\n```', "{broken"])
def test_invalid_json_is_a_format_error_saying_where(text):
    with pytest.raises(errors.FormatError, match=r"not valid JSON \(.* at line \d+, column \d+\).*_llm.content"):
        parse_json(text)


def test_code_comes_out_of_its_fences():
    text = "Here:\n```python\nimport os\n```\nthen\n```python\nprint(os.name)\n```\n```bash\nls\n```"
    assert extract_code(text) == ("import os\n\nprint(os.name)", "python")
    assert extract_code("x = 1\n") == ("x = 1", "")
    assert extract_code("~~~sql\nSELECT 1\n~~~") == ("SELECT 1", "sql")
    assert extract_code("````python\nprint('```')\n````") == ("print('```')", "python")
    assert is_python("") and is_python("python3") and not is_python("sql")


@pytest.mark.parametrize("text", ["$$E = mc^2$$", "\\[E = mc^2\\]", "$E = mc^2$", "```latex\nE = mc^2\n```",
                                  "E = mc^2"])
def test_math_loses_its_delimiters(text):
    assert math_source(text) == "E = mc^2"


def test_html_source_and_format_names():
    assert html_source("Here:\n```html\n<b>x</b>\n```") == "<b>x</b>"
    assert html_source("<p>x</p>\n") == "<p>x</p>"
    assert check(None) == "markdown" and check("JSON") == "json"
    with pytest.raises(errors.ConfigError, match="use one of markdown, text, code, json, html, math"):
        check("yaml")


def test_a_reply_of_megabytes_is_read_whole():
    records = [{"id": i, "item": "flour", "value": i / 4} for i in range(100_000)]
    fenced = "```json\n" + json.dumps(records, indent=2) + "\n```"
    assert parse_json(fenced) == records
    assert parse_json(json.dumps(records)) == records
