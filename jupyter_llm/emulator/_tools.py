"""Tool calls for the gateway emulator: which tools to call, with what, in which fragments.

Arguments are synthesised from each tool's JSON Schema and the prompt, so a client can
run the call for real. The wire fragments reproduce the shapes vLLM and SGLang stream.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NamedTuple

_CAPITALISED = re.compile(r"(?<![\w'])([A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)")
_SENTENCE_START = re.compile(r"(^|[.!?:]\s+)$")
_NOT_PLACES = {"What", "How", "Why", "When", "Where", "Which", "Who", "Please", "Can", "Could",
               "Would", "Should", "Is", "Are", "Do", "Does", "The", "A", "An", "I", "It", "Tell",
               "Give", "Show", "Find", "Get", "Use", "Call", "Check", "And", "Or", "In", "On"}
_PLACE_NAMES = ("location", "city", "place", "country", "town", "address", "destination",
                "origin", "region")
_PIECE = re.compile(r"\w+|[^\w]+")


class Call(NamedTuple):
    """One synthesised tool call."""

    id: str
    name: str
    arguments: str


def places(prompt: str) -> list[str]:
    """Capitalised, place-like words of the prompt (not sentence openers), in order."""
    found: list[str] = []
    for match in _CAPITALISED.finditer(prompt):
        word = match.group(1)
        starts_sentence = _SENTENCE_START.search(prompt[: match.start()]) is not None
        if word in _NOT_PLACES or (starts_sentence and word.split()[0] in _NOT_PLACES):
            continue
        if word not in found:
            found.append(word)
    return found or ["Paris"]


def _phrase(prompt: str) -> str:
    words = re.findall(r"[\w'-]+", prompt)
    return " ".join(words[:5]) or "example"


def _value(schema: dict, name: str, prompt: str, k: int) -> Any:
    if not isinstance(schema, dict):
        return _phrase(prompt)
    if schema.get("enum"):
        return schema["enum"][0]
    if "const" in schema:
        return schema["const"]
    for key in ("anyOf", "oneOf", "allOf"):
        if schema.get(key):
            return _value(schema[key][0], name, prompt, k)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((t for t in kind if t != "null"), "null")
    if kind is None:
        kind = "object" if "properties" in schema else "string"
    if kind == "integer":
        return 1
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        return [_value(schema.get("items") or {}, name, prompt, k)]
    if kind == "object":
        return arguments(schema, prompt, k)
    fmt = schema.get("format")
    if fmt == "date":
        return "2025-01-01"
    if fmt == "date-time":
        return "2025-01-01T00:00:00Z"
    if any(p in name.lower() for p in _PLACE_NAMES):
        found = places(prompt)
        return found[k % len(found)]
    return _phrase(prompt)


def arguments(schema: dict, prompt: str, k: int = 0) -> dict:
    """Values for the ``required`` parameters of a JSON Schema object.

    ``k`` picks the k-th place word, so repeated calls to one tool differ.
    """
    props = schema.get("properties") or {}
    return {name: _value(props.get(name, {}), name, prompt, k) for name in schema.get("required") or []}


def _functions(tools: list) -> list[dict]:
    return [t.get("function") or {} for t in tools if isinstance(t, dict)]


def choose(tools: list, tool_choice: Any, prompt: str, calls: int) -> list[dict]:
    """The functions to call: a forced one, else tools named in the prompt first."""
    functions = [f for f in _functions(tools) if f.get("name")]
    if isinstance(tool_choice, dict):
        wanted = (tool_choice.get("function") or {}).get("name")
        functions = [f for f in functions if f["name"] == wanted] or functions[:1]
    if not functions:
        return []
    low = prompt.lower()
    named = [f for f in functions if f["name"].lower() in low
             or f["name"].lower().replace("_", " ") in low]
    ordered = named + [f for f in functions if f not in named]
    return [ordered[i % len(ordered)] for i in range(max(calls, 1))]


def synthesise(tools: list, tool_choice: Any, prompt: str, calls: int, bad_args: bool,
               seed: int, shape: str) -> list[Call]:
    """The tool calls of a first turn, with ids in the server's style."""
    out = []
    seen: dict[str, int] = {}
    for i, function in enumerate(choose(tools, tool_choice, prompt, calls)):
        name = function["name"]
        k = seen[name] = seen.get(name, -1) + 1
        text = json.dumps(arguments(function.get("parameters") or {}, prompt, k), ensure_ascii=False)
        if bad_args and i == 0:
            text = text[:-1] + ","  # a truncated object, as models emit now and then
        digest = hashlib.sha256(f"{seed}:{i}".encode()).hexdigest()
        call_id = f"call_{digest[:24]}" if shape == "sglang" else f"chatcmpl-tool-{digest[:32]}"
        out.append(Call(call_id, name, text))
    return out


def pieces(text: str) -> list[str]:
    """Argument text cut into the small pieces a server streams."""
    return _PIECE.findall(text) or [""]


def fragments(calls: list[Call], shape: str) -> list[tuple[list[dict], int]]:
    """Each chunk's ``delta.tool_calls`` list and its token cost, in wire order.

    ``vllm``: the first chunk of a call has two entries of one index (header, then
    the first argument piece). ``sglang``: the header has ``arguments: ""`` and later
    fragments carry explicit nulls. ``interleaved``: vLLM fragments of several calls
    alternating by index.
    """
    per_call = [_sglang(i, c) if shape == "sglang" else _vllm(i, c) for i, c in enumerate(calls)]
    if shape != "interleaved":
        return [f for call in per_call for f in call]
    out = []
    for step in range(max((len(c) for c in per_call), default=0)):
        out += [call[step] for call in per_call if step < len(call)]
    return out


def _vllm(index: int, call: Call) -> list[tuple[list[dict], int]]:
    first, *rest = pieces(call.arguments)
    head = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name}}
    out = [([head, {"index": index, "function": {"arguments": first}}], 2)]
    return out + [([{"index": index, "function": {"arguments": p}}], 1) for p in rest]


def _sglang(index: int, call: Call) -> list[tuple[list[dict], int]]:
    head = {"index": index, "id": call.id, "type": "function",
            "function": {"name": call.name, "arguments": ""}}
    rest = [([{"index": index, "id": None, "type": None,
               "function": {"name": None, "arguments": p}}], 1) for p in pieces(call.arguments)]
    return [([head], 1)] + rest


def assemble(deltas: list[list[dict]]) -> list[dict]:
    """Complete tool calls from streamed ``delta.tool_calls`` lists (for non-stream replies)."""
    calls: dict[int, dict] = {}
    for entries in deltas:
        for entry in entries:
            call = calls.setdefault(entry["index"], {"id": None, "type": "function",
                                                     "function": {"name": None, "arguments": ""}})
            call["id"] = call["id"] or entry.get("id")
            function = entry.get("function") or {}
            call["function"]["name"] = call["function"]["name"] or function.get("name")
            call["function"]["arguments"] += function.get("arguments") or ""
    return [calls[i] for i in sorted(calls)]
