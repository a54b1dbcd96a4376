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

    def body(self, shape: str = "openai") -> dict:
        """The JSON body in the requested shape."""
        inner = {"message": self.message, "type": self.type, "param": self.param, "code": self.code}
        if shape == "sglang" and not self.fixed:
            return {"object": "error", **inner}
        return {"error": inner}


def bad_request(message: str, param: str | None = None) -> ServerError:
    """vLLM's 400."""
    return ServerError(400, message, "BadRequestError", param, 400)


def no_channel(model: str) -> ServerError:
    """one-api's answer for a model no channel of the key's group serves."""
    return ServerError(503, f"no available channel for model {model} under group default",
                       "one_api_error", None, "model_not_found", fixed=True)


def unauthorized(reason: str) -> ServerError:
    """one-api's answer for a missing or unknown key (never repeats the key)."""
    return ServerError(401, reason, "one_api_error", None, "invalid_api_key", fixed=True)


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


def fault(name: str, model: str, retry_after: float) -> ServerError | None:
    """The error reply a status fault stands for (None for faults that are not statuses)."""
    if name == "429":
        wait = f"{retry_after:g}"
        return ServerError(429, f"Rate limit reached for model {model}: too many requests in "
                           f"flight, please retry after {wait} s.", "rate_limit_error", None,
                           "rate_limit_exceeded", headers={"Retry-After": wait})
    if name == "500":
        return ServerError(500, "Internal server error: EngineCore encountered an issue. "
                           "See stack trace (above) for the root cause.", "InternalServerError")
    if name == "502":
        return ServerError(502, "bad response status code 502: upstream server is unreachable",
                           "upstream_error", None, "bad_response_status_code")
    if name == "504":
        return ServerError(504, "upstream request timed out after 300 s", "upstream_error",
                           None, "gateway_timeout")
    if name == "503-channel":
        return no_channel(model)
    if name == "401":
        return unauthorized("invalid token: this API key is not valid (expired or revoked)")
    if name == "403":
        return ServerError(403, f"this token is not allowed to use model {model}",
                           "one_api_error", None, "permission_denied")
    return None
