"""The one JSON Schema check: where a value breaks a schema, in words a model or a reader can act on."""
from __future__ import annotations

from jupyter_llm.core.schema import problem

TOOL = {"type": "object", "properties": {"n": {"type": "integer"}, "u": {"enum": ["a", "b"]}}, "required": ["n"]}


def test_tool_arguments_are_checked_with_closed_properties():
    assert problem({"n": 1, "u": "a"}, TOOL, label="arguments", closed=True) is None
    assert problem({}, TOOL, label="arguments", closed=True) == "arguments: missing required 'n'"
    assert problem({"n": "1"}, TOOL, label="arguments", closed=True) == "arguments.n must be integer, got string"
    assert problem({"n": 1, "u": "c"}, TOOL, label="arguments", closed=True) == \
        'arguments.u must be one of ["a", "b"], got "c"'
    assert problem({"n": 1, "x": 2}, TOOL, label="arguments", closed=True) == \
        "arguments: unexpected 'x' (known: n, u)"


def test_an_open_schema_allows_other_fields_as_json_schema_says():
    assert problem({"n": 1, "x": 2}, TOOL) is None


def test_nested_problems_name_the_path():
    schema = {"type": "object", "properties": {"items": {"type": "array", "items": {"type": "integer"}}}}
    assert problem({"items": [1, "2"]}, schema, label="the answer") == "the answer.items[1] must be integer, got string"
    assert problem({"items": [1, 2]}, schema) is None


def test_references_and_alternatives_of_pydantic_schemas_are_followed():
    schema = {"$defs": {"Unit": {"enum": ["c", "f"]}},
              "type": "object", "properties": {"unit": {"$ref": "#/$defs/Unit"},
                                               "when": {"anyOf": [{"type": "string"}, {"type": "null"}]}}}
    assert problem({"unit": "c", "when": None}, schema) is None
    assert "must be one of" in problem({"unit": "k"}, schema)
    assert problem({"unit": "c", "when": 3}, schema) is not None


def test_an_empty_schema_accepts_anything():
    assert problem({"anything": [1, "x"]}, {}) is None
