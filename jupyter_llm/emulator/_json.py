"""Structured answers: a JSON value for a JSON Schema, drawn from the request's own seed.

``response_format: {"type": "json_schema", ...}`` is answered the way a server with
structured outputs does: the content is exactly one JSON document valid for the
schema. A model asked in its system prompt to answer "matching this JSON Schema"
(the fallback for servers without structured outputs) answers as instruction-tuned
models usually do: the JSON inside a fenced code block.
"""
from __future__ import annotations

import json
import random
from typing import Any

from ._errors import bad_request
from ._text import topics

_MARK = "JSON Schema:"


def wanted(body: dict, system: str, structured: bool = True) -> tuple[dict | None, bool]:
    """The schema this request asks the answer to follow, and whether to fence it (prompted).

    ``structured=False`` plays a server without structured outputs, which refuses the field.
    """
    fmt = body.get("response_format")
    if fmt is not None and not structured:
        raise bad_request("response_format is not supported by this server: it was started without "
                          "a structured-output (guided decoding) backend", "response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        if not isinstance(schema, dict):
            raise bad_request("response_format json_schema needs json_schema.schema (an object)",
                              "response_format")
        return schema, False
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return {"type": "object", "properties": {"answer": {"type": "string"}}}, False
    at = system.find(_MARK)
    if at >= 0:
        try:
            schema, _ = json.JSONDecoder().raw_decode(system[at + len(_MARK):].lstrip())
        except ValueError:
            return None, False
        return (schema, True) if isinstance(schema, dict) else (None, False)
    return None, False


def answer(rng: random.Random, schema: dict, prompt: str, fenced: bool) -> str:
    """One JSON document valid for ``schema`` (fenced as ```json when prompted)."""
    words = topics(prompt) or ["item"]
    value = _value(rng, schema, schema, words)
    text = json.dumps(value, ensure_ascii=False)
    return f"```json\n{text}\n```" if fenced else text


def _value(rng: random.Random, schema: dict, root: dict, words: list[str]) -> Any:
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        schema = (root.get("$defs") or root.get("definitions") or {}).get(name, {})
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return rng.choice(schema["enum"])
    for key in ("anyOf", "oneOf"):
        options = [s for s in schema.get(key) or () if s.get("type") != "null"]
        if options:
            return _value(rng, options[0], root, words)
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        return {name: _value(rng, sub, root, words) for name, sub in (schema.get("properties") or {}).items()}
    if kind == "array":
        low = schema.get("minItems", 1)
        count = rng.randint(low, max(low, min(schema.get("maxItems", 3), 3)))
        return [_value(rng, schema.get("items") or {}, root, words) for _ in range(count)]
    if kind == "integer":
        return rng.randint(int(schema.get("minimum", 1)), int(schema.get("maximum", 5)))
    if kind == "number":
        return round(rng.uniform(float(schema.get("minimum", 0)), float(schema.get("maximum", 1))), 2)
    if kind == "boolean":
        return rng.random() < 0.5
    if kind == "null":
        return None
    return rng.choice(words)
