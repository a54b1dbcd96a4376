"""Tool calls for the gateway emulator: which tools to call, with what, in which fragments.

Arguments are read from the prompt the way a model would take them: the numbers in it in
order ("What is 2 + 3?" gives ``a=2, b=3``), quoted strings, place names for a location,
and the choices of an ``enum`` that the prompt names (an optional parameter too, when it
does). What the prompt does not say gets a plain default, so a client can run the call
for real. The wire fragments reproduce the shapes vLLM and SGLang stream.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any, NamedTuple

from ._lexicon import STOP

_CAPITALISED = re.compile(r"(?<![\w'])([A-Z][a-z]+(?:[ -][A-Z][a-z]+)?)")
_SENTENCE_START = re.compile(r"(^|[.!?:]\s+)$")
_NOT_PLACES = {"What", "How", "Why", "When", "Where", "Which", "Who", "Please", "Can", "Could",
               "Would", "Should", "Is", "Are", "Do", "Does", "The", "A", "An", "I", "It", "Tell",
               "Give", "Show", "Find", "Get", "Use", "Call", "Check", "And", "Or", "In", "On"}
_PLACE_NAMES = ("location", "city", "place", "country", "town", "address", "destination",
                "origin", "region")
_PIECE = re.compile(r"\w+|[^\w]+")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_QUOTED = re.compile(r'"([^"\n]+)"|\u201c([^\u201d\n]+)\u201d|(?<!\w)\'([^\'\n]+)\'(?!\w)')
_WORD = re.compile(r"[\w'-]+")


class Call(NamedTuple):
    """One synthesised tool call."""

    id: str
    name: str
    arguments: str


def places(prompt: str) -> list[str]:
    """Capitalised, place-like words of the prompt, in order; those opening a sentence last
    ("Weather in Lyon?" is about Lyon, "Paris weather?" about Paris)."""
    inside: list[str] = []
    opening: list[str] = []
    for match in _CAPITALISED.finditer(prompt):
        word = match.group(1)
        starts_sentence = _SENTENCE_START.search(prompt[: match.start()]) is not None
        if word in _NOT_PLACES or (starts_sentence and word.split()[0] in _NOT_PLACES):
            continue
        found = opening if starts_sentence else inside
        if word not in found:
            found.append(word)
    return inside + [w for w in opening if w not in inside] or ["Paris"]


class _Prompt:
    """What a prompt offers as argument values; numbers and quotes are taken once each, in order."""

    def __init__(self, text: str):
        self.text = text
        self.words = {w.lower() for w in _WORD.findall(text)}
        self._numbers = _NUMBER.findall(text)
        self._quotes = [next(filter(None, m.groups())) for m in _QUOTED.finditer(text)]

    def number(self, integer: bool) -> int | float | None:
        """The next number of the prompt (the next whole one for an integer), or None."""
        while self._numbers:
            text = self._numbers.pop(0)
            value = float(text)
            if not integer:
                return int(value) if value.is_integer() and "." not in text else value
            if value.is_integer():
                return int(value)
        return None

    def numbers(self, integer: bool) -> list:
        """Every number of the prompt not taken yet."""
        out = []
        while (value := self.number(integer)) is not None:
            out.append(value)
        return out

    def quote(self) -> str | None:
        return self._quotes.pop(0) if self._quotes else None

    def named(self, choices: list) -> Any:
        """The first of ``choices`` the prompt names as a word, or None."""
        return next((c for c in choices if str(c).lower() in self.words), None)

    def phrase(self) -> str:
        """What the prompt is about, in a few words: its first clause without leading question words."""
        words = _WORD.findall(re.split(r"[.?!;:\n]", self.text.strip(), maxsplit=1)[0])
        while words and words[0].lower() in STOP:
            words.pop(0)
        return " ".join(words[:6]) or "example"


def _value(schema: dict, name: str, prompt: _Prompt, k: int) -> Any:
    if not isinstance(schema, dict):
        return prompt.phrase()
    if schema.get("enum"):
        named = prompt.named(schema["enum"])
        return schema["enum"][0] if named is None else named
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
    if kind in ("integer", "number"):
        found = prompt.number(kind == "integer")
        return found if found is not None else (1 if kind == "integer" else 1.5)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if kind == "array":
        items = schema.get("items") or {}
        if items.get("type") in ("integer", "number"):
            return prompt.numbers(items["type"] == "integer") or [_value(items, name, prompt, k)]
        return [_value(items, name, prompt, k)]
    if kind == "object":
        return _object(schema, prompt, k)
    fmt = schema.get("format")
    if fmt == "date":
        return "2025-01-01"
    if fmt == "date-time":
        return "2025-01-01T00:00:00Z"
    quoted = prompt.quote()
    if quoted is not None:
        return quoted
    if any(p in name.lower() for p in _PLACE_NAMES):
        found = places(prompt.text)
        return found[k % len(found)]
    return prompt.phrase()


def _object(schema: dict, prompt: _Prompt, k: int) -> dict:
    props = schema.get("properties") or {}
    required = schema.get("required") or []
    # An optional parameter is passed when the prompt names one of its choices, as a model would.
    wanted = [name for name in props if name in required
              or (isinstance(props[name], dict) and prompt.named(props[name].get("enum") or []) is not None)]
    wanted += [name for name in required if name not in props]
    return {name: _value(props.get(name, {}), name, prompt, k) for name in wanted}


def arguments(schema: dict, prompt: str, k: int = 0) -> dict:
    """Values for the parameters of a JSON Schema object, read from ``prompt`` where it says them.

    ``k`` picks the k-th place word, so repeated calls to one tool differ.
    """
    return _object(schema, _Prompt(prompt), k)


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
