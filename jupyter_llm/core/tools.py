"""Plain Python functions as tools: the :func:`tool` decorator, :class:`Tool` and the registry.

The JSON Schema the model sees is built once, when the function is registered, from its
signature, type hints and docstring, so a function that cannot be described fails at
definition time rather than mid-conversation.
"""
from __future__ import annotations

import enum
import inspect
import re
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass

from .. import errors

#: Every registered tool by name; ``--tools all`` means these.
REGISTRY: dict[str, Tool] = {}

_SCALARS = {str: "string", int: "integer", float: "number", bool: "boolean"}
_PARAM_LINE = re.compile(r"^\s*[:*]?(?:param\s+)?(\w+)\s*(?:\([^)]*\))?\s*:\s*(.+)$")


@dataclass
class Tool:
    """A Python function the model may call, with the JSON Schema of its parameters.

    Example::

        t = jupyter_llm.tool(get_current_weather)
        t.schema        # {"type": "function", "function": {"name": ..., "parameters": ...}}
        t(location="Paris")
    """

    function: Callable
    name: str
    description: str
    parameters: dict
    confirm: bool = False

    @property
    def schema(self) -> dict:
        """The OpenAI ``tools`` entry for this function."""
        return {"type": "function",
                "function": {"name": self.name, "description": self.description, "parameters": self.parameters}}

    def __call__(self, *args, **kwargs):
        return self.function(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Tool({self.name!r})"


def tool(function: Callable | None = None, *, name: str | None = None, confirm: bool = False):
    """Register a Python function as a tool the model can call; returns a :class:`Tool`.

    The schema comes from the signature (str, int, float, bool, Literal, Enum, list/dict of
    those, Optional, pydantic models, TypedDict) and the docstring: its first paragraph is
    the description, and ``name: text`` lines describe parameters. ``confirm=True`` asks
    before every call.

    Example::

        @jupyter_llm.tool
        def get_current_weather(location: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
            \"\"\"Get the current weather in a given location.

            location: The city and state, e.g. San Francisco, CA
            \"\"\"
            return {"location": location, "temperature": 22, "unit": unit}

        jupyter_llm.ask("Weather in Paris?", tools=[get_current_weather])
    """
    def register(fn: Callable) -> Tool:
        made = make_tool(fn, name=name, confirm=confirm)
        REGISTRY[made.name] = made
        return made

    return register if function is None else register(function)


def make_tool(fn: Callable, *, name: str | None = None, confirm: bool = False) -> Tool:
    """Describe ``fn`` as a :class:`Tool` (not registered); raises ConfigError when it cannot."""
    if isinstance(fn, Tool):
        return fn
    if not callable(fn):
        raise errors.ConfigError(f"{fn!r} is not a function, so it cannot be a tool.")
    name = name or getattr(fn, "__name__", "")
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", name or ""):
        raise errors.ConfigError(f"Tool name {name!r} must be 1-64 letters, digits, _ or -: pass name=.")
    description, texts = parse_docstring(inspect.getdoc(fn) or "")
    try:
        hints = typing.get_type_hints(fn, include_extras=False)
    except Exception as exc:  # a hint naming something undefined
        raise errors.ConfigError(f"Tool {name}: cannot read its type hints ({exc}).") from exc
    properties, required = {}, []
    for param in inspect.signature(fn).parameters.values():
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD):
            raise errors.ConfigError(
                f"Tool {name}: *{param.name} cannot be described to the model; give each parameter a name and a type.")
        if param.kind is param.POSITIONAL_ONLY:
            raise errors.ConfigError(f"Tool {name}: positional-only parameter {param.name} cannot be passed by name.")
        if param.name not in hints:
            raise errors.ConfigError(
                f"Tool {name}: parameter {param.name!r} has no type annotation; the model needs its type "
                f"(e.g. {param.name}: str).")
        try:
            prop = schema_of(hints[param.name])
        except TypeError as exc:
            raise errors.ConfigError(f"Tool {name}, parameter {param.name!r}: {exc}") from exc
        if param.name in texts:
            prop = {**prop, "description": texts[param.name]}
        if param.default is param.empty:
            required.append(param.name)
        elif _jsonable(param.default):
            prop = {**prop, "default": _plain(param.default)}
        properties[param.name] = prop
    parameters = {"type": "object", "properties": properties, "required": required}
    return Tool(fn, name, description or name.replace("_", " "), parameters, confirm)


def parse_docstring(doc: str) -> tuple[str, dict[str, str]]:
    """The description (first paragraph) and ``{parameter: text}`` from ``name: text`` lines.

    Reads the plain ``name: text`` form of the issue, Google ``Args:`` blocks and Sphinx
    ``:param name: text``.
    """
    paragraphs = doc.strip().split("\n\n")
    description = " ".join(paragraphs[0].split()) if paragraphs and paragraphs[0] else ""
    texts: dict[str, str] = {}
    for line in doc.splitlines()[1:]:
        match = _PARAM_LINE.match(line)
        if match and match.group(1).lower() not in ("args", "returns", "raises", "example", "note"):
            texts[match.group(1)] = match.group(2).strip()
    if description.endswith(":") or _PARAM_LINE.match(paragraphs[0].splitlines()[0] if paragraphs[0] else ""):
        description = ""
    return description, texts


def schema_of(hint) -> dict:
    """The JSON Schema of one type hint (raises TypeError for what JSON cannot carry)."""
    if hint in _SCALARS:
        return {"type": _SCALARS[hint]}
    if hint is type(None):
        return {"type": "null"}
    if hint is typing.Any:
        return {}
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin is typing.Annotated:
        return schema_of(args[0])
    if origin is typing.Literal:
        values = list(args)
        kinds = {_SCALARS.get(type(v)) for v in values}
        out = {"enum": values}
        return {"type": kinds.pop(), **out} if len(kinds) == 1 and None not in kinds else out
    if origin in (typing.Union, types.UnionType):
        options = [a for a in args if a is not type(None)]
        inner = schema_of(options[0]) if len(options) == 1 else {"anyOf": [schema_of(a) for a in options]}
        if len(options) == len(args):
            return inner
        return {"anyOf": [inner, {"type": "null"}]}
    if origin in (list, tuple, set, frozenset) or hint in (list, tuple, set, frozenset):
        items = args[0] if args and args[-1] is not Ellipsis or len(args) == 2 else None
        return {"type": "array", **({"items": schema_of(items)} if items is not None else {})}
    if origin is dict or hint is dict:
        if args and args[0] is not str:
            raise TypeError("dict keys must be str in JSON")
        return {"type": "object", **({"additionalProperties": schema_of(args[1])} if args else {})}
    if isinstance(hint, type) and issubclass(hint, enum.Enum):
        values = [m.value for m in hint]
        kinds = {_SCALARS.get(type(v)) for v in values}
        return {"type": kinds.pop(), "enum": values} if len(kinds) == 1 and None not in kinds else {"enum": values}
    if typing.is_typeddict(hint):
        hints = typing.get_type_hints(hint)
        required = sorted(getattr(hint, "__required_keys__", hints))
        return {"type": "object", "properties": {k: schema_of(v) for k, v in hints.items()},
                "required": [k for k in hints if k in required]}
    if _is_pydantic(hint):
        return _pydantic_schema(hint)
    raise TypeError(f"type {getattr(hint, '__name__', hint)!r} cannot be described in JSON Schema; "
                    f"use str, int, float, bool, Literal, Enum, list, dict, Optional, TypedDict or a pydantic model")


def _is_pydantic(hint) -> bool:
    # pydantic comes with openai but is heavy: only look when a class might be a model.
    if not isinstance(hint, type) or not hasattr(hint, "model_json_schema"):
        return False
    from pydantic import BaseModel

    return issubclass(hint, BaseModel)


def _pydantic_schema(model) -> dict:
    schema = model.model_json_schema()
    defs = schema.pop("$defs", {})
    # Inline $refs: the validator (and some gateways' grammar engines) handle no references.
    def inline(node):
        if isinstance(node, dict):
            if "$ref" in node:
                return inline(defs[node["$ref"].rsplit("/", 1)[-1]])
            return {k: inline(v) for k, v in node.items() if k != "title"}
        if isinstance(node, list):
            return [inline(v) for v in node]
        return node

    return inline(schema)


def _jsonable(value) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, enum.Enum))


def _plain(value):
    return value.value if isinstance(value, enum.Enum) else value


def resolve(tools, namespace: dict | None = None) -> list[Tool]:
    """Tools from what a user passes: Tool objects, functions, names, or ``"all"``."""
    if tools is None:
        return []
    if isinstance(tools, str):
        tools = [t.strip() for t in tools.split(",") if t.strip()]
    out: list[Tool] = []
    for item in tools:
        if item == "all":
            if not REGISTRY:
                raise errors.ConfigError("--tools all: no tool is registered yet; decorate a function with @jupyter_llm.tool.")
            out += list(REGISTRY.values())
        elif isinstance(item, str):
            found = REGISTRY.get(item)
            if found is None and namespace is not None and callable(namespace.get(item)):
                found = make_tool(namespace[item])
            if found is None:
                known = ", ".join(REGISTRY) or "none yet"
                raise errors.ConfigError(f"No tool named {item!r}; registered tools: {known}.")
            out.append(found)
        else:
            out.append(make_tool(item))
    unique: dict[str, Tool] = {}
    for t in out:
        unique.setdefault(t.name, t)
    return list(unique.values())
