"""Structured answers for ``map(schema=...)``: a pydantic model, a JSON Schema dict, or a short form.

The short form maps field names to a type or a list of allowed values::

    {"label": ["pos", "neg"], "score": float, "keywords": [str]}

Each becomes a JSON Schema (``response_format`` where the model supports it) and a
parser that checks an answer against it; each field becomes a column.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from .. import errors
from ..core.schema import problem as _problem

_TYPES = {str: "string", int: "integer", float: "number", bool: "boolean"}
_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


@dataclass(frozen=True)
class Schema:
    """What the answer must look like: the JSON Schema sent, and how to check an answer."""

    name: str
    json: dict
    model: Any = None  # a pydantic model class, when given one

    @property
    def fields(self) -> list[str]:
        """The answer's fields, in order: one result column each."""
        return list(self.json.get("properties", {}))

    def response_format(self) -> dict:
        """The ``response_format`` body field (OpenAI / vLLM structured outputs)."""
        return {"type": "json_schema", "json_schema": {"name": self.name, "schema": self.json}}

    def instructions(self) -> str:
        """The system-prompt text for models without ``response_format`` (prompt, then parse)."""
        return ("Answer with one JSON object and nothing else. It must match this JSON Schema:\n"
                + json.dumps(self.json, ensure_ascii=False))

    def parse(self, text: str) -> dict:
        """The answer's fields as a dict; ValueError saying what is wrong with the answer."""
        value = _loads(text)
        if self.model is not None:
            try:
                return self.model.model_validate(value).model_dump(mode="json")
            except Exception as exc:  # pydantic.ValidationError: its message lists each field
                raise ValueError(f"the answer does not fit {self.name}: {_first_line(exc)}") from exc
        problem = _problem(value, self.json, label="the answer")
        if problem:
            raise ValueError(f"the answer does not fit the schema: {problem}")
        return value

    def key(self) -> str:
        """A stable text form, for the batch cache."""
        return json.dumps(self.json, sort_keys=True, ensure_ascii=False)


def as_schema(schema) -> Schema:
    """A :class:`Schema` from a pydantic model, a JSON Schema dict or the short form."""
    if isinstance(schema, Schema):
        return schema
    if isinstance(schema, type) and hasattr(schema, "model_json_schema"):
        return Schema(name=schema.__name__, json=schema.model_json_schema(), model=schema)
    if not isinstance(schema, dict) or not schema:
        raise errors.ConfigError(
            f"schema= takes a pydantic model, a JSON Schema dict or a short form such as "
            f'{{"label": ["pos", "neg"], "score": float}}, not {type(schema).__name__}.')
    if schema.get("type") == "object" or "properties" in schema:
        if not isinstance(schema.get("properties"), dict) or not schema["properties"]:
            raise errors.ConfigError("A JSON Schema for map() needs \"properties\": one per result column.")
        return Schema(name=str(schema.get("title") or "answer"), json=dict(schema))
    properties = {str(name): _short(name, spec) for name, spec in schema.items()}
    return Schema(name="answer", json={"type": "object", "properties": properties,
                                       "required": list(properties), "additionalProperties": False})


def _short(name, spec) -> dict:
    if isinstance(spec, type) and spec in _TYPES:
        return {"type": _TYPES[spec]}
    if isinstance(spec, list) and len(spec) == 1 and isinstance(spec[0], type) and spec[0] in _TYPES:
        return {"type": "array", "items": {"type": _TYPES[spec[0]]}}
    if isinstance(spec, (list, tuple)) and spec and all(isinstance(v, (str, int, float, bool)) for v in spec):
        return {"enum": list(spec)}
    if isinstance(spec, dict):
        return spec
    raise errors.ConfigError(
        f"schema field {name!r}: use str, int, float, bool, [str] (a list), a list of allowed values "
        f"such as [\"pos\", \"neg\"], or a JSON Schema dict; got {spec!r}.")


def _loads(text: str):
    text = (text or "").strip()
    fenced = _FENCE.search(text)
    if fenced:
        text = fenced.group(1).strip()
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        start, end = text.find("{"), text.rfind("}")
        if 0 <= start < end:
            try:
                return json.loads(text[start:end + 1])
            except json.JSONDecodeError:
                pass
    shown = text if len(text) <= 60 else text[:57] + "..."
    raise ValueError(f"the answer is not JSON: {shown!r}")


def _first_line(exc: Exception) -> str:
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines[1:3]) if len(lines) > 1 else (lines[0] if lines else type(exc).__name__)


def typed_columns(frame, schema: dict):
    """Columns with the dtype a pandas user expects: categories for choices, nullable ints and bools."""
    import pandas as pd

    for name, sub in (schema.get("properties") or {}).items():
        if name not in frame or not isinstance(sub, dict):
            continue
        try:
            if sub.get("enum") and all(isinstance(v, str) for v in sub["enum"]):
                frame[name] = pd.Categorical(frame[name], categories=list(dict.fromkeys(sub["enum"])))
            elif sub.get("type") == "integer":
                frame[name] = frame[name].astype("Int64")
            elif sub.get("type") == "number":
                frame[name] = frame[name].astype("float64")
            elif sub.get("type") == "boolean":
                frame[name] = frame[name].astype("boolean")
        except (TypeError, ValueError):
            pass  # a pydantic model may coerce differently: keep what it returned
    return frame
