"""The one JSON Schema check, for tool arguments and structured answers alike.

The validating is jsonschema's (imported when first needed); what is ours is the wording:
one line that names where the value breaks the schema and how, for a model to correct
its call or for a reader of a failed row.
"""
from __future__ import annotations

import json

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
               dict: "object", type(None): "null"}


def problem(value, schema: dict, *, label: str = "the value", closed: bool = False) -> str | None:
    """The first way ``value`` breaks ``schema``, in words; None when it fits.

    ``closed=True`` reads an object schema that lists ``properties`` as allowing no others
    unless it says so: a model that invents an argument should hear about it.

    Example::

        problem({"n": "1"}, {"type": "object", "properties": {"n": {"type": "integer"}}}, label="arguments")
        # 'arguments.n must be integer, got string'
    """
    if not schema:
        return None
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(_closed(schema) if closed else schema).iter_errors(value))
    if error is None:
        return None
    where = label + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
    return _words(error, where)


def _words(error, where: str) -> str:
    kind, expected, value = error.validator, error.validator_value, error.instance
    if kind == "type":
        kinds = expected if isinstance(expected, list) else [expected]
        return f"{where} must be {' or '.join(kinds)}, got {json_type(value)}"
    if kind in ("enum", "const"):
        allowed = expected if kind == "enum" else [expected]
        return f"{where} must be one of {json.dumps(allowed, ensure_ascii=False)}, got {_shown(value)}"
    if kind == "required":
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        return f"{where}: missing required {missing[0]!r}" if missing else f"{where}: {error.message}"
    if kind == "additionalProperties" and isinstance(value, dict):
        known = set(error.schema.get("properties") or {})
        extra = [name for name in value if name not in known]
        return f"{where}: unexpected {', '.join(map(repr, extra))} (known: {', '.join(sorted(known)) or 'none'})"
    return f"{where}: {error.message}"


def json_type(value) -> str:
    """The JSON name of ``value``'s type (``string``, ``integer``, ``object``, ...)."""
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _shown(value) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


def _closed(schema):
    if isinstance(schema, list):
        return [_closed(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    out = {key: _closed(item) if key not in ("enum", "const", "default", "required") else item
           for key, item in schema.items()}
    if isinstance(schema.get("properties"), dict) and schema["properties"] and "additionalProperties" not in schema:
        out["additionalProperties"] = False
    return out
