"""What the model server refuses in a chat request, with its wording: 400 before any token.

The emulator must refuse what a real server refuses, so that code which passes against it
also passes against the gateway. The messages follow vLLM's validators
(``sampling_params.py``, the chat request's checks). Its Pydantic checks of the messages
(an unknown role, a tool message without ``tool_call_id``) are written here in the same form.
"""
from __future__ import annotations

from typing import Any

from ._errors import ServerError

ROLES = {"system", "user", "assistant", "tool", "developer", "function"}


def _refuse(message: str, param: str | None = None, value: Any = None) -> ServerError:
    if param is not None and value is not None:
        message = f"{message} (parameter={param}, value={value})"
    return ServerError(400, message, "BadRequestError", param, 400)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def request(body: dict) -> None:
    """Raise the server's 400 for the first thing it would refuse in ``body``."""
    _messages(body.get("messages") or [])
    _sampling(body)
    _streaming(body)
    _tools(body)


def _messages(messages: list) -> None:
    for i, message in enumerate(messages):
        role = message.get("role")
        if role not in ROLES:
            raise _refuse(f"1 validation error for ChatCompletionRequest\nmessages.{i}.role\n  Input should be "
                          f"'system', 'user', 'assistant', 'tool' or 'developer' [input_value={role!r}]",
                          "messages")
        if role == "tool" and not message.get("tool_call_id"):
            raise _refuse(f"1 validation error for ChatCompletionRequest\nmessages.{i}.tool_call_id\n  Field "
                          "required [a tool message answers a tool call: give its id]", "messages")


def _sampling(body: dict) -> None:
    temperature, top_p, n = body.get("temperature"), body.get("top_p"), body.get("n")
    if temperature is not None and (not _number(temperature) or temperature < 0):
        raise _refuse(f"temperature must be non-negative, got {temperature}.", "temperature", temperature)
    if temperature is not None and temperature > 2:
        raise _refuse(f"temperature must be in [0, 2], got {temperature}.", "temperature", temperature)
    if top_p is not None and (not _number(top_p) or not 0 < top_p <= 1):
        raise _refuse(f"top_p must be in (0, 1], got {float(top_p) if _number(top_p) else top_p}.", "top_p",
                      float(top_p) if _number(top_p) else top_p)
    if n is not None and (not isinstance(n, int) or n < 1):
        raise _refuse(f"n must be at least 1, got {n}.", "n", n)
    if isinstance(n, int) and n > 1 and temperature == 0:
        raise _refuse(f"n must be 1 when using greedy sampling, got {n}.")
    top = body.get("top_logprobs")
    if top is not None and not body.get("logprobs"):
        raise _refuse("when using `top_logprobs`, `logprobs` must be set to true.")
    if top is not None and (not isinstance(top, int) or not 0 <= top <= 20):
        raise _refuse(f"top_logprobs must be between 0 and 20, got {top}.", "top_logprobs", top)


def _streaming(body: dict) -> None:
    if body.get("stream_options") is not None and not body.get("stream"):
        raise ServerError(400, "Stream options can only be defined when `stream=True`. (parameter=stream_options)",
                          "BadRequestError", "stream_options", 400)


def _tools(body: dict) -> None:
    tools, choice = body.get("tools"), body.get("tool_choice")
    if isinstance(choice, dict):
        if not tools:
            raise _refuse("When using `tool_choice`, `tools` must be set.")
        wanted = (choice.get("function") or {}).get("name")
        names = {(t.get("function") or {}).get("name") for t in tools if isinstance(t, dict)}
        if wanted not in names:
            raise _refuse("The tool specified in `tool_choice` does not match any of the specified `tools`")
