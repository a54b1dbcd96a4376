"""What the openai SDK (and httpx below it) raise, translated into :mod:`jupyter_llm.errors`.

Every message says what to do next and carries no key. The SDK's exception is not kept as
the cause: its frames hold the request's headers, which a verbose traceback would print.
A :class:`~jupyter_llm.errors.Cause` with its type and cleaned message is chained instead.
"""
from __future__ import annotations

import re

from .. import errors
from . import refusals
from .transport import Request

#: HTTP statuses worth another try (the SDK's own list).
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_CONTEXT_RE = re.compile(r"maximum context length is (\d+) tokens.*?requested (\d+) tokens", re.S)


def retryable(exc) -> bool:
    """True for a failure that another try may cure: a dropped connection, a busy server, 5xx.

    A timeout is not retried: the server may still be working on the first request, and
    another would double its load and the user's wait for the same answer. A refusal that
    will not change (an unknown model behind one-api's 503, a spent quota) is not retried.
    """
    import openai

    status = getattr(exc, "status_code", None)
    connection = isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError)
    if connection:
        return True
    return status in RETRY_STATUS and refusal(exc).meaning in (None, refusals.BUSY)


def refusal(exc) -> refusals.Refusal:
    """What the SDK error ``exc`` means, read from its status, its text, its code and headers."""
    response = getattr(exc, "response", None)
    return refusals.classify(getattr(exc, "status_code", None), message(exc), _code(exc),
                             getattr(response, "headers", None))


def retry_after(exc) -> float | None:
    """The wait the server asked for, in seconds: ``retry-after-ms``, ``retry-after``, or
    ``llm_provider-retry-after`` (a LiteLLM proxy relaying its upstream's)."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        for name in ("retry-after", "llm_provider-retry-after"):
            if headers.get(name):
                return float(headers[name])
    except ValueError:
        return None
    return None


def _code(exc):
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        return inner.get("code")
    return None


def message(exc) -> str:
    """The server's own words: ``error.message`` of the body, or the exception's text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        if isinstance(inner.get("message"), str):
            return inner["message"]
    text = str(getattr(exc, "message", "") or exc)
    # The SDK's own placeholder for a body with nothing in it (one-api's limiter sends none).
    return "" if not body and re.fullmatch(r"Error code: \d+", text) else text


def cause(exc, secrets) -> errors.Cause:
    """A frameless stand-in for ``exc`` to chain as the cause: its type and its cleaned text."""
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return errors.Cause(f"{kind}: {errors.redact(str(exc), secrets)}")


def translate(exc, request: Request, *, attempts: int = 1) -> errors.LLMError:
    """Map an openai SDK exception to the matching :mod:`jupyter_llm.errors` class."""
    import openai

    secrets = request.all_secrets()
    status = getattr(exc, "status_code", None)
    where, model, timeout = request.endpoint.base_url, request.model, request.timeout
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    if isinstance(exc, openai.APITimeoutError):
        return errors.TimeoutError(
            f"No answer from {where} within {timeout:g} s{tried}. The gateway may be busy: try again, "
            f"or allow longer with %llm_config timeout=300."
        )
    if isinstance(exc, openai.APIConnectionError):
        reason = errors.redact(str(exc.__cause__ or exc), secrets)
        return errors.ConnectionError(
            f"Could not reach the gateway at {where}{tried} ({reason}). Check the URL "
            f"(%llm_config base_url=... or JUPYTER_LLM_BASE_URL) and that you are on the right network."
        )
    read = refusal(exc)
    said = errors.redact(f"{status}: {read.quoted()}", secrets)
    keep = dict(status_code=status, request_id=read.request_id)
    if read.meaning == refusals.UNKNOWN_MODEL:
        whose = " for this key" if request.endpoint.api_key else ""
        return errors.ModelNotFound(
            f"The gateway has no model {model!r}{whose}. {errors.ModelNotFound.SEE_MODELS} (It said {said}.)",
            model=model, **keep)
    if read.meaning == refusals.QUOTA:
        return errors.QuotaExceeded(
            f"The API key's quota at the gateway is spent ({said}). Ask the gateway's admin for more quota "
            f"(quote the request id), or switch to another key with %llm_config api_key.", **keep)
    if read.meaning == refusals.NOT_ALLOWED:
        return errors.AuthenticationError(
            f"This API key may not use {model or 'this model'} ({said}). The gateway gives different models "
            f"different keys: route the model to its key in the config file ([routes.NAME]), or ask the "
            f"gateway's admin to add it to the key.", **keep)
    if read.meaning == refusals.BAD_KEY:
        missing = "" if request.endpoint.api_key else " No key is set."
        return errors.AuthenticationError(
            f"The gateway at {where} refused the API key ({said}).{missing} Set the right key with "
            f"%llm_config api_key (a hidden prompt) or the JUPYTER_LLM_API_KEY environment variable.", **keep)
    if read.meaning == refusals.DENIED:
        return errors.AuthenticationError(
            f"The gateway refused access ({said}). Ask the gateway's admin: the key or the account is "
            f"restricted.", **keep)
    if read.meaning == refusals.NO_ROUTE:
        return _no_route(exc, request, said, keep)
    text = errors.redact(read.quoted(), secrets)
    if status == 429:
        wait = retry_after(exc)
        hint = f" It asked to wait {wait:g} s." if wait else ""
        return errors.RateLimitError(
            f"The gateway is rate-limiting this key (429: {text}){tried}.{hint} Wait and re-run, lower the "
            f"concurrency of batch jobs, or raise %llm_config max_retries.",
            retry_after=wait, **keep)
    if status in (400, 413, 422):
        return _bad_request(text, model, status)
    if status is not None and status >= 500:
        return errors.GatewayError(
            f"The gateway failed ({status}){tried}: {text.rstrip('.')}. This is on the server side: try "
            f"again later, or raise %llm_config max_retries.", **keep)
    if isinstance(exc, openai.APIError):
        return errors.GatewayError(f"The model server reported an error mid-reply: {text}")
    return errors.LLMError(f"{type(exc).__name__}: {text}")


def _no_route(exc, request: Request, said: str, keep: dict) -> errors.LLMError:
    where = request.endpoint.base_url
    path = _path(exc) or f"/{request.kind}"
    if request.kind == "rerank":
        return errors.CapabilityError(
            f"The gateway at {where} has no rerank route ({said}); one-api, for one, does not serve "
            f"/v1/rerank. Send rerank to a server that does, with a route in the config file: "
            f'[routes.rerank] models = ["{request.model}"] base_url = "https://…/v1".', **keep)
    hint = ("" if where.rstrip("/").endswith("/v1") else
            f" A gateway's URL usually ends in /v1: try %llm_config base_url={where.rstrip('/')}/v1")
    return errors.ConfigError(
        f"The gateway at {where} has no {path} ({said}): the base URL looks wrong.{hint or ' Check it with the gateway admin.'}",
        **keep)


def _path(exc) -> str | None:
    response = getattr(exc, "response", None)
    request = getattr(response, "request", None)
    url = getattr(request, "url", None)
    return getattr(url, "path", None)


def _bad_request(text: str, model: str, status: int) -> errors.LLMError:
    match = _CONTEXT_RE.search(text)
    if match or "context length" in text.lower():
        limit, requested = (int(match.group(1)), int(match.group(2))) if match else (None, None)
        size = f" (limit {limit:,} tokens, request {requested:,})" if match else ""
        return errors.ContextTooLong(
            f"The prompt does not fit in {model}'s context{size}: {text} Shorten the prompt, "
            f"lower max_tokens, or use a model with a longer context.",
            limit=limit,
            requested=requested,
            status_code=status,
        )
    return errors.BadRequest(f"The gateway refused the request ({status}): {text}", status_code=status)
