"""Schemas for map(): the three ways to write one, and what a bad answer is told."""
from __future__ import annotations

import pytest
from pydantic import BaseModel

from jupyter_llm import errors
from jupyter_llm.data.schema import as_schema


def test_the_short_form_is_a_strict_json_schema():
    spec = as_schema({"label": ["pos", "neg"], "score": float, "n": int, "ok": bool, "tags": [str]})
    assert spec.fields == ["label", "score", "n", "ok", "tags"]
    assert spec.json["properties"] == {"label": {"enum": ["pos", "neg"]}, "score": {"type": "number"},
                                       "n": {"type": "integer"}, "ok": {"type": "boolean"},
                                       "tags": {"type": "array", "items": {"type": "string"}}}
    assert spec.json["required"] == spec.fields and spec.json["additionalProperties"] is False
    assert spec.response_format()["json_schema"]["schema"] is spec.json


def test_answers_are_parsed_from_plain_or_fenced_json_and_checked():
    spec = as_schema({"label": ["pos", "neg"], "n": int})
    assert spec.parse('{"label": "pos", "n": 2}') == {"label": "pos", "n": 2}
    assert spec.parse('Sure!\n```json\n{"label": "neg", "n": 1}\n```') == {"label": "neg", "n": 1}
    with pytest.raises(ValueError, match=r"the answer\.label must be one of \["):
        spec.parse('{"label": "meh", "n": 1}')
    with pytest.raises(ValueError, match="the answer: missing required 'n'"):
        spec.parse('{"label": "pos"}')
    with pytest.raises(ValueError, match="not JSON"):
        spec.parse("I think it is positive.")


def test_a_pydantic_model_validates_and_coerces():
    class Item(BaseModel):
        name: str
        price: float

    spec = as_schema(Item)
    assert spec.fields == ["name", "price"] and spec.name == "Item"
    assert spec.parse('{"name": "mug", "price": 3}') == {"name": "mug", "price": 3.0}
    with pytest.raises(ValueError, match="does not fit Item"):
        spec.parse('{"name": "mug"}')
