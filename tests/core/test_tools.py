"""Schema generation for @jupyter_llm.tool: every supported hint, the docstring, registration errors."""
from __future__ import annotations

import enum
from typing import Literal, Optional, TypedDict

import pytest

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.tools import REGISTRY, make_tool, schema_of


class Colour(enum.Enum):
    RED = "red"
    BLUE = "blue"


class Point(TypedDict):
    x: float
    y: float


def test_weather_example_schema_and_registry():
    @jupyter_llm.tool
    def get_current_weather(location: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
        """Get the current weather in a given location.

        location: The city and state, e.g. San Francisco, CA
        """
        return {}

    function = get_current_weather.schema["function"]
    assert function["name"] == "get_current_weather"
    assert function["description"] == "Get the current weather in a given location."
    params = function["parameters"]
    assert params["required"] == ["location"]
    assert params["properties"]["location"] == {"type": "string", "description": "The city and state, e.g. San Francisco, CA"}
    assert params["properties"]["unit"] == {"type": "string", "enum": ["celsius", "fahrenheit"], "default": "celsius"}
    assert REGISTRY["get_current_weather"] is get_current_weather


@pytest.mark.parametrize("hint, schema", [
    (str, {"type": "string"}),
    (int, {"type": "integer"}),
    (float, {"type": "number"}),
    (bool, {"type": "boolean"}),
    (Literal[1, 2], {"type": "integer", "enum": [1, 2]}),
    (Colour, {"type": "string", "enum": ["red", "blue"]}),
    (list[int], {"type": "array", "items": {"type": "integer"}}),
    (dict[str, float], {"type": "object", "additionalProperties": {"type": "number"}}),
    (Optional[str], {"anyOf": [{"type": "string"}, {"type": "null"}]}),
    (int | None, {"anyOf": [{"type": "integer"}, {"type": "null"}]}),
    (list[Colour], {"type": "array", "items": {"type": "string", "enum": ["red", "blue"]}}),
    (Point, {"type": "object", "properties": {"x": {"type": "number"}, "y": {"type": "number"}}, "required": ["x", "y"]}),
])
def test_schema_of_every_supported_hint(hint, schema):
    assert schema_of(hint) == schema


def test_pydantic_model_is_inlined():
    from pydantic import BaseModel

    class Inner(BaseModel):
        n: int

    class Query(BaseModel):
        name: str
        inner: Inner

    schema = schema_of(Query)
    assert schema["type"] == "object" and set(schema["required"]) == {"name", "inner"}
    assert schema["properties"]["inner"]["properties"]["n"]["type"] == "integer"
    assert "$ref" not in str(schema)


def test_google_and_sphinx_docstrings():
    def f(a: int, b: str = "x") -> str:
        """Do a thing.

        Args:
            a (int): how many
            b: which one
        """

    def g(a: int) -> str:
        """Do another.

        :param a: how many
        """

    assert make_tool(f).parameters["properties"]["a"]["description"] == "how many"
    assert make_tool(f).parameters["properties"]["b"]["description"] == "which one"
    assert make_tool(g).parameters["properties"]["a"]["description"] == "how many"
    assert make_tool(g).description == "Do another."


def test_no_annotation_is_an_error_at_registration():
    with pytest.raises(errors.ConfigError, match="no type annotation"):
        @jupyter_llm.tool
        def bad(x):
            return x


def test_star_args_are_an_error_at_registration():
    with pytest.raises(errors.ConfigError, match=r"\*args"):
        @jupyter_llm.tool
        def bad(*args: int):
            return args


def test_unsupported_type_is_an_error_at_registration():
    with pytest.raises(errors.ConfigError, match="cannot be described"):
        def bad(x: object) -> None: ...
        make_tool(bad)


def test_confirm_flag_and_async_detection():
    @jupyter_llm.tool(confirm=True)
    async def slow(n: int) -> int:
        return n

    assert slow.confirm and slow.name == "slow"
