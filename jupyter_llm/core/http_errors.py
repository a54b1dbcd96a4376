"""What the openai SDK (and httpx below it) raise, translated into :mod:`jupyter_llm.errors`.

Every message says what to do next and carries no key. The SDK's exception is not kept as
the cause: its frames hold the request's headers, which a verbose traceback would print.
A :class:`~jupyter_llm.errors.Cause` with its type and cleaned message is chained instead.
"""
from __future__ import annotations

import re

from .. import errors
from .transport import Request

#: HTTP statuses worth another try (the SDK's own list).
RETRY_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})
_CONTEXT_RE = re.compile(r"maximum context length is (\d+) tokens.*?requested (\d+) tokens", re.S)


def retryable(exc) -> bool:
    """True for a failure that another try may cure: a dropped connection, 429, 5xx.

    A timeout is not retried: the server may still be working on the first request, and
    another would double its load and the user's wait for the same answer.
    """
    import openai

    status = getattr(exc, "status_code", None)
    connection = isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError)
    return (connection or status in RETRY_STATUS) and not no_channel(exc)


def no_channel(exc) -> bool:
    """one-api's 503 for a model no channel serves: an unknown model, not a busy server."""
    return getattr(exc, "status_code", None) == 503 and "no available channel" in message(exc).lower()


def retry_after(exc) -> float | None:
    """The wait the server asked for (``retry-after-ms`` or ``retry-after``), in seconds."""
    response = getattr(exc, "response", None)
    if response is None:
        return None
    headers = response.headers
    try:
        if headers.get("retry-after-ms"):
            return float(headers["retry-after-ms"]) / 1000
        if headers.get("retry-after"):
            return float(headers["retry-after"])
    except ValueError:
        return None
    return None


def message(exc) -> str:
    """The server's own words: ``error.message`` of the body, or the exception's text."""
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        if isinstance(inner.get("message"), str):
            return inner["message"]
    return str(getattr(exc, "message", "") or exc)


def cause(exc, secrets) -> errors.Cause:
    """A frameless stand-in for ``exc`` to chain as the cause: its type and its cleaned text."""
    kind = f"{type(exc).__module__}.{type(exc).__qualname__}"
    return errors.Cause(f"{kind}: {errors.redact(str(exc), secrets)}")


def translate(exc, request: Request, *, attempts: int = 1) -> errors.LLMError:
    """Map an openai SDK exception to the matching :mod:`jupyter_llm.errors` class."""
    import openai

    secrets = request.all_secrets()
    text = errors.redact(message(exc), secrets)
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
    if status == 401:
        return errors.AuthenticationError(
            f"The gateway at {where} refused the API key (401: {text}). Set the right key with "
            f"%llm_config api_key (a hidden prompt) or the JUPYTER_LLM_API_KEY environment variable.",
            status_code=status,
        )
    if status == 403:
        return errors.AuthenticationError(
            f"The API key may not use {model or 'this model'} (403: {text}). The gateway gives different "
            f"models different keys: route this model to its key in the config file ([routes.NAME]), or "
            f"switch keys with %llm_config api_key (a hidden prompt) or JUPYTER_LLM_API_KEY.",
            status_code=status,
        )
    if status == 404 or no_channel(exc):
        return errors.ModelNotFound(
            f"The gateway has no model {model!r} for this key ({status}: {text}). "
            f"Run %llm_models to see the models it serves.",
            model=model,
            status_code=status,
        )
    if status == 429:
        wait = retry_after(exc)
        hint = f" It asked to wait {wait:g} s." if wait else ""
        return errors.RateLimitError(
            f"The gateway is rate-limiting this key (429){tried}.{hint} Wait and re-run, lower the "
            f"concurrency of batch jobs, or raise %llm_config max_retries.",
            retry_after=wait,
            status_code=status,
        )
    if status in (400, 413, 422):
        return _bad_request(text, model, status)
    if status is not None and status >= 500:
        return errors.GatewayError(
            f"The gateway failed ({status}){tried}: {text.rstrip('.')}. This is on the server side: try "
            f"again later, or raise %llm_config max_retries.",
            status_code=status,
        )
    if isinstance(exc, openai.APIError):
        return errors.GatewayError(f"The model server reported an error mid-reply: {text}")
    return errors.LLMError(f"{type(exc).__name__}: {text}")


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
