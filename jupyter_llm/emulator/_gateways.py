"""Refusals as the gateways in front of the model servers word them: one-api and LiteLLM.

The ``gateway`` setting says what stands in front: ``one-api`` (the default: the users'
gateway), ``litellm`` (a LiteLLM proxy), or ``none`` (the model server itself, vLLM or
SGLang). The wording comes from each project's source. one-api appends a request id to
every message it writes itself, and sends the same id in a header.
"""
from __future__ import annotations

import itertools
import time

from ._errors import ServerError

_ids = itertools.count(1)


def request_id() -> str:
    """A one-api style request id: the time to the second, then a serial number."""
    return time.strftime("%Y%m%d%H%M%S") + f"{next(_ids):09d}"


def one_api(status: int, message: str, *, code: str | None = None, headers: dict | None = None,
            kind: str = "one_api_error") -> ServerError:
    """An error one-api writes itself: its own shape, with the request id in the message and a header."""
    rid = request_id()
    error = ServerError(status, f"{message} (request id: {rid})", kind, None, code, fixed=True,
                        headers={"X-Oneapi-Request-Id": rid, **(headers or {})})
    if code is None:
        error.code = None
    return error


def unknown_model(gateway: str, model: object, group: str = "default") -> ServerError:
    """No such model, as the gateway in front (or the server itself) says it."""
    if gateway == "litellm":
        return ServerError(400, f"/chat/completions: Invalid model name passed in model={model}. Call "
                           "`/v1/models` to view available models for your key.", "None", "None", "400")
    if gateway == "none":
        return ServerError(404, f"The model `{model}` does not exist.", "NotFoundError", "model", 404)
    return one_api(503, f"当前分组 {group} 下对于模型 {model} 无可用渠道")


def not_allowed(model: object) -> ServerError:
    """one-api: this key's model list does not hold the model (key groups)."""
    return one_api(403, f"该令牌无权使用模型：{model}")


def bad_key(missing: bool) -> ServerError:
    """one-api: no key, or a key it does not know (it never repeats the key)."""
    return one_api(401, "未提供令牌" if missing else "无效的令牌")


#: Faults that stand for a gateway's refusal, by name.
FAULTS = {
    "quota": lambda model: one_api(401, "该令牌额度已用尽"),
    "quota-token": lambda model: one_api(401, "令牌 workshop-key（#12）额度已用尽"),
    "quota-user": lambda model: one_api(403, "user quota is not enough", code="insufficient_user_quota"),
    "quota-pre": lambda model: one_api(403, "令牌额度不足", code="pre_consume_token_quota_failed"),
    "not-allowed": not_allowed,
    "busy": lambda model: ServerError(429, "", fixed=True),
    "saturated": lambda model: one_api(429, "当前分组上游负载已饱和，请稍后再试", code="429", kind="upstream_error"),
    "no-route": lambda model: ServerError(404, "Invalid URL (POST /v1/rerank)", "invalid_request_error", "", "",
                                          fixed=True),
    "litellm-model": lambda model: unknown_model("litellm", model),
    "litellm-429": lambda model: ServerError(429, "litellm.RateLimitError: upstream rate limit", "None", "None",
                                             "429", headers={"llm_provider-retry-after": "0.2"}),
    "vllm-model": lambda model: unknown_model("none", model),
}


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
        return unknown_model("one-api", model)
    if name == "401":
        return bad_key(missing=False)
    if name == "403":
        return not_allowed(model)
    if name in FAULTS:
        return FAULTS[name](model)
    return None
