"""Error replies of the gateway emulator, worded as the real servers word them.

Errors raised by an inference server (vLLM, SGLang) follow the ``error_shape`` setting:
``openai`` nests them under ``"error"``, ``sglang`` puts them at the top level with
``"object": "error"``. Errors from the one-api layer itself (auth, no channel) always
have one-api's own shape.
"""
from __future__ import annotations

from typing import Any


class ServerError(Exception):
    """An HTTP error reply; raised anywhere, written by the handler."""

    def __init__(self, status: int, message: str, type: str = "BadRequestError",
                 param: str | None = None, code: Any = None, *,
                 headers: dict[str, str] | None = None, fixed: bool = False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.type = type
        self.param = param
        self.code = status if code is None else code
        self.headers = headers or {}
        self.fixed = fixed  # one-api's own errors ignore error_shape
        self.empty = status == 429 and not message  # one-api's own rate limiter answers with no body

    def body(self, shape: str = "openai") -> dict:
        """The JSON body in the requested shape."""
        inner = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        if shape == "sglang" and not self.fixed:
            return {"object": "error", **inner}
        return {"error": inner}


def bad_request(message: str, param: str | None = None) -> ServerError:
    """vLLM's 400."""
    return ServerError(400, message, "BadRequestError", param, 400)


def context_exceeded(context: int, prompt: int, completion: int | None) -> ServerError:
    """vLLM's wording when a prompt does not fit the model's context."""
    if completion is None:
        message = (f"This model's maximum context length is {context} tokens. However, you "
                   f"requested {prompt} tokens in the messages, Please reduce the length of "
                   "the messages.")
    else:
        message = (f"This model's maximum context length is {context} tokens. However, you "
                   f"requested {prompt + completion} tokens ({prompt} in the messages, "
                   f"{completion} in the completion). Please reduce the length of the "
                   "messages or completion.")
    return ServerError(400, message, "BadRequestError", "messages", 400)
