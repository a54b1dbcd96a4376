"""The emulator's model table and how behaviour settings are layered.

Every behaviour of the loopback gateway emulator is a named *setting*. A request's
settings are the built-in behaviour of its model, overridden in turn by the
emulator's ``defaults`` and top-level options, by its per-model ``models=`` entry,
and finally by the request's ``X-Emulator: name=value; name=value`` header.
"""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_K = 1024

#: Every setting with its value when nothing else applies.
DEFAULTS: dict[str, Any] = {
    # What the model is (the manual's table); overridable like any behaviour.
    "kind": "chat",  # chat | embedding | rerank
    "group": "*",  # key group that may use it: A | B | *
    "root": None,  # underlying model, shown by /v1/models
    "owned_by": "vllm",
    "context": 32 * _K,
    "server": "vllm",  # vllm | sglang: envelope fields (stop_reason vs matched_stop)
    "vision": False,
    "thinking_switch": False,
    "dims": 4096,
    # How it answers.
    "reasoning": "none",  # reasoning | reasoning_content | sglang | inline | inline-open | none
    "tools": "none",  # vllm | sglang | interleaved | none (no function calling)
    "answer_tokens": None,
    "shape": "mixed",  # mixed | table | json-line | json-records: what a long answer is made of
    "reasoning_tokens": None,
    "rate": 0.0,
    "chunk_tokens": 1,
    "finish": "inline",  # inline | separate
    "finish_reason": None,
    "calls": 1,
    "tool_rounds": 1,  # rounds of calls before it answers from the results
    "bad_args": False,  # the first call of the first round has broken JSON
    "max_model_len": False,
    "error_shape": "openai",  # openai | sglang
    "gateway": "one-api",  # what stands in front: one-api | litellm | none (the model server itself)
    "rerank": "vllm",  # vllm | sglang
    "dimensions": "matryoshka",  # matryoshka | refuse
    "structured": True,  # honours response_format json_schema (False: refuses it with a 400)
    "latency": "0",
    "max_concurrency": 0,
    # one-api's quota (_billing.py): a key's total in currency units (None: unlimited), and
    # what 1,000 tokens cost.
    "quota": None,
    "price": 0.002,
    # Faults.
    "echo_key": False,  # error messages quote the caller's token, as some gateways' quota errors do
    "fault": None,
    "fault_times": None,
    "retry_after": 1,
    "delay": 5.0,
    "cut_after": 10,
}

_CHOICES = {
    "kind": {"chat", "embedding", "rerank"},
    "shape": {"mixed", "table", "json-line", "json-records"},
    "server": {"vllm", "sglang"},
    "reasoning": {"reasoning", "reasoning_content", "sglang", "inline", "inline-open", "none"},
    "tools": {"vllm", "sglang", "interleaved", "none"},
    "finish": {"inline", "separate"},
    "error_shape": {"openai", "sglang"},
    "gateway": {"one-api", "litellm", "none"},
    "rerank": {"vllm", "sglang"},
    "dimensions": {"matryoshka", "refuse"},
}
_INTS = {"context", "dims", "answer_tokens", "reasoning_tokens", "chunk_tokens", "calls", "tool_rounds",
         "max_concurrency", "fault_times", "cut_after"}
_FLOATS = {"rate", "delay", "retry_after", "quota", "price"}
_BOOLS = {"vision", "thinking_switch", "bad_args", "max_model_len", "structured", "echo_key"}
_NULLABLE = {"answer_tokens", "reasoning_tokens", "finish_reason", "fault", "fault_times", "root", "quota"}

_A, _B = "A", "B"

#: The gateway manual's models with the wire behaviour each one shows in the wild.
BUILTIN: dict[str, dict[str, Any]] = {
    "qwq-32b": dict(group=_A, root="QwQ-32B", context=64 * _K, reasoning="inline-open"),
    "qwq-32b-128k": dict(group=_A, root="QwQ-32B", context=128 * _K, server="sglang",
                         owned_by="sglang", reasoning="sglang", tools="sglang"),
    "qwen72b-int8": dict(group=_A, root="Qwen2.5-72B-Instruct-GPTQ-Int8", context=16 * _K),
    "qwen72b-awq": dict(group=_A, root="Qwen2.5-72B-Instruct-AWQ", context=16 * _K, tools="vllm"),
    "qwen32b-awq(试用)": dict(group=_A, root="Qwen2.5-32B-Instruct-AWQ", tools="vllm"),
    "qwen25-vl-7b": dict(group=_A, root="Qwen2.5-VL-7B-Instruct", vision=True),
    "qwen3-32b": dict(group=_B, root="Qwen3-32B", reasoning="reasoning", tools="vllm",
                      thinking_switch=True),
    "qwen3-30b-a3b": dict(group=_B, root="Qwen3-30B-A3B", reasoning="inline", tools="vllm",
                          thinking_switch=True),
    "Qwen3-Embedding-8B": dict(kind="embedding", root="Qwen3-Embedding-8B"),
    "bge-reranker-v2-m3": dict(kind="rerank", root="bge-reranker-v2-m3", context=8 * _K),
}


class SettingError(ValueError):
    """A setting name or value the emulator does not understand."""


def coerce(name: str, value: Any) -> Any:
    """Check one setting and convert a textual value (header, CLI) to its type."""
    if name not in DEFAULTS:
        raise SettingError(f"unknown emulator setting {name!r}; known: {', '.join(sorted(DEFAULTS))}")
    blank = value is None or (isinstance(value, str) and value.strip().lower() in {"", "null", "none"})
    if blank and name in _NULLABLE:
        return None
    if value is None:
        raise SettingError(f"emulator setting {name!r} needs a value")
    try:
        if name in _BOOLS:
            return _boolean(value)
        if name in _INTS:
            return int(value)
        if name in _FLOATS:
            return float(value)
    except (TypeError, ValueError):
        raise SettingError(f"emulator setting {name!r} got {value!r}") from None
    value = str(value).strip()
    allowed = _CHOICES.get(name)
    if allowed and value not in allowed:
        raise SettingError(f"emulator setting {name}={value!r}; choose from {', '.join(sorted(allowed))}")
    return value


def _boolean(value: Any) -> bool:
    if isinstance(value, bool | int):
        return bool(value)
    text = str(value).strip().lower()
    if text in {"1", "true", "yes", "on"}:
        return True
    if text in {"0", "false", "no", "off"}:
        return False
    raise ValueError(value)


def coerce_all(settings: Mapping[str, Any]) -> dict[str, Any]:
    """Check and convert a mapping of settings."""
    return {name: coerce(name, value) for name, value in settings.items()}


def parse_header(text: str) -> dict[str, Any]:
    """Read ``name=value; name=value`` (the ``X-Emulator`` header or a CLI option)."""
    out: dict[str, Any] = {}
    for item in text.replace(",", ";").split(";"):
        if not item.strip():
            continue
        name, sep, value = item.partition("=")
        if not sep:
            raise SettingError(f"emulator setting {item.strip()!r} should read name=value")
        out[name.strip()] = coerce(name.strip(), value.strip())
    return out


class ModelTable:
    """The models an emulator serves, and the settings layering for one request."""

    def __init__(self, defaults: Mapping[str, Any] | None = None,
                 models: Mapping[str, Mapping[str, Any] | None] | None = None):
        self.defaults = coerce_all(defaults or {})
        self.overrides: dict[str, dict[str, Any]] = {}
        self.names: list[str] = list(BUILTIN)
        for name, entry in (models or {}).items():
            if entry is None:  # retire a model
                if name in self.names:
                    self.names.remove(name)
                continue
            self.overrides[name] = coerce_all(entry)
            if name not in self.names:
                self.names.append(name)

    def __contains__(self, name: object) -> bool:
        return name in self.names

    def settings(self, name: str | None, header: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The effective settings for a request to model ``name`` (known or not)."""
        merged = dict(DEFAULTS)
        if name in self.names:
            merged.update(BUILTIN.get(name, {}))
        merged.update(self.defaults)
        if name in self.names:
            merged.update(self.overrides.get(name, {}))
        merged.update(header or {})
        return merged

    def visible(self, group: str | None) -> list[str]:
        """Model names a key of ``group`` may see (None or ``*``: all of them)."""
        if group in (None, "*"):
            return list(self.names)
        return [n for n in self.names if self.settings(n)["group"] in (group, "*")]
