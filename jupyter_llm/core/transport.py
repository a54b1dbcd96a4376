"""The one place that talks HTTP: openai SDK clients, retries, and error translation.

Every error of the SDK (and of httpx below it) is translated here into
:mod:`jupyter_llm.errors`, with any key scrubbed from the message.
"""
from __future__ import annotations

import json
import random
import re
import sys
import time
from collections.abc import Callable, Iterator
from typing import Any

from .. import errors
from . import limiter
from .cassette import recorded
from .config import Endpoint

_RETRY_STATUS = {408, 409, 429, 500, 502, 503, 504}
_BACKOFF_CAP = 8.0
_RETRY_AFTER_CAP = 60.0
_CONTEXT_RE = re.compile(r"maximum context length is (\d+) tokens.*?requested (\d+) tokens", re.S)


class Transport:
    """Opens chat streams and other requests against an :class:`Endpoint`.

    Clients are cached per endpoint so connections are reused across cells. The SDK's
    own retries are off: this class retries itself, so a wait can be shown to the user
    and a refusal that will not change (an unknown model) is not retried.
    """

    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        self._clients: dict[tuple, Any] = {}
        self._sleep = sleep

    def client(self, endpoint: Endpoint, *, timeout: float, headers: dict | None = None):
        import openai

        key = (endpoint.base_url, endpoint.api_key, endpoint.auth, timeout, tuple(sorted((headers or {}).items())))
        client = self._clients.get(key)
        if client is None:
            default_headers = dict(headers or {})
            if endpoint.auth == "raw" and endpoint.api_key:
                # The gateway manual sends the bare key; the SDK would prefix "Bearer".
                default_headers["Authorization"] = endpoint.api_key
            client = openai.OpenAI(
                base_url=endpoint.base_url,
                api_key=endpoint.api_key or "no-key",
                timeout=timeout,
                max_retries=0,
                default_headers=default_headers,
            )
            self._clients[key] = client
        return client

    @recorded("chat")
    def chat_stream(
        self,
        endpoint: Endpoint,
        body: dict,
        *,
        timeout: float,
        max_retries: int,
        headers: dict | None = None,
        secrets=(),
        on_notice: Callable[[str], None] | None = None,
    ) -> Iterator[dict]:
        """Yield the chunks of one streaming chat completion as dicts; errors come out translated.

        The SDK opens the request (auth, headers, status errors); the event stream is read
        as lines and parsed with ``json`` here, which is several times cheaper per chunk
        than building SDK objects and is what a cassette records anyway.
        """
        body = dict(body, stream_options={"include_usage": True})
        body.pop("stream", None)
        model = body.pop("model", "")
        options = {k: body.pop(k) for k in _SDK_CALL_OPTIONS if k in body}
        body |= body.pop("extra_body", None) or {}
        # The slot is held until the stream is closed: a reply in progress is load on the gateway.
        with limiter.shared().slot(limiter.estimate_tokens(body)):
            opened = self._send(
                endpoint,
                # Messages and options travel in extra_body, as the JSON they already are: given
                # as arguments, the SDK walks every message to transform it, a third of its CPU
                # per request, which a batch of concurrent rows queues for under the GIL.
                lambda client: client.chat.completions.with_streaming_response.create(
                    model=model, messages=[], stream=True, extra_body=body, **options
                ).__enter__(),
                model=model, timeout=timeout, max_retries=max_retries, headers=headers, secrets=secrets,
                on_notice=on_notice,
            )
            try:
                yield from _sse_chunks(opened, endpoint, model, timeout, secrets, on_notice)
            finally:
                opened.close()

    @recorded("models")
    def list_models(self, session) -> list[dict]:
        """The ``/v1/models`` entries the session's key can use, as plain dicts."""
        page = self._send(
            session.endpoint(session.model),
            lambda client: client.models.list(),
            model="", timeout=session.timeout, max_retries=session.max_retries,
            headers=session.extra_headers, secrets=session.secrets(), on_notice=None,
        )
        return [m.model_dump() for m in page.data]

    @recorded("embeddings")
    def embeddings(
        self,
        endpoint: Endpoint,
        body: dict,
        *,
        timeout: float,
        max_retries: int,
        headers: dict | None = None,
        secrets=(),
        on_notice: Callable[[str], None] | None = None,
    ) -> dict:
        """One ``POST /embeddings`` as the raw JSON dict (base64 vectors stay strings for numpy).

        The SDK's own parsing would turn every vector into a list of Python floats; the raw
        response lets the caller decode base64 straight into a float32 block.
        """
        body = dict(body)
        params = {k: body.pop(k) for k in list(body) if k not in _SDK_EMBED_ARGS}
        raw = self._send(
            endpoint,
            lambda client: client.embeddings.with_raw_response.create(**body, extra_body=params or None),
            model=body.get("model", ""), timeout=timeout, max_retries=max_retries, headers=headers,
            secrets=secrets, on_notice=on_notice,
        )
        return json.loads(raw.http_response.content)

    @recorded("rerank")
    def rerank(
        self,
        endpoint: Endpoint,
        body: dict,
        *,
        timeout: float,
        max_retries: int,
        headers: dict | None = None,
        secrets=(),
        on_notice: Callable[[str], None] | None = None,
    ) -> dict | list:
        """One ``POST /rerank`` as parsed JSON: vLLM's ``{"results": [...]}`` or SGLang's bare list."""
        return self._send(
            endpoint,
            lambda client: client.post("/rerank", body=body, cast_to=object),
            model=body.get("model", ""), timeout=timeout, max_retries=max_retries, headers=headers,
            secrets=secrets, on_notice=on_notice,
        )

    def _send(self, endpoint, make, *, model, timeout, max_retries, headers, secrets, on_notice):
        """``make(client)`` with the endpoint's cached client, retried and translated by ``_open``."""
        client = self.client(endpoint, timeout=timeout, headers=headers)
        with limiter.shared().slot():
            return self._open(
                lambda: make(client),
                endpoint=endpoint, model=model, timeout=timeout, max_retries=max_retries, secrets=secrets,
                on_notice=on_notice,
            )

    def _open(self, call, *, endpoint, model, timeout, max_retries, secrets, on_notice):
        import openai

        attempt = 0
        while True:
            try:
                return call()
            except openai.OpenAIError as exc:
                status = getattr(exc, "status_code", None)
                # A timeout is not retried: the server may still be working on the first request,
                # and another would double its load and the user's wait for the same answer.
                retryable = (
                    isinstance(exc, openai.APIConnectionError) and not isinstance(exc, openai.APITimeoutError)
                    or status in _RETRY_STATUS
                ) and not _no_channel(exc)
                if not retryable or attempt >= max_retries:
                    raise translate(exc, endpoint=endpoint, model=model, timeout=timeout, secrets=secrets,
                                    attempts=attempt + 1) from None
                wait = _retry_after(exc)
                if wait is None:
                    wait = min(_BACKOFF_CAP, 0.5 * 2**attempt) * (1 + 0.25 * random.random())
                wait = min(wait, _RETRY_AFTER_CAP)
                attempt += 1
                if on_notice:
                    reason = f"HTTP {status}" if status else "connection failed"
                    on_notice(f"{reason}; retrying in {wait:.1f} s (attempt {attempt + 1} of {max_retries + 1})")
                limiter.shared().backoff(wait, self._sleep, rate_limited=status == 429)


#: Options of the SDK call itself, not fields of the request body.
_SDK_CALL_OPTIONS = ("extra_headers", "extra_query", "timeout")

_SDK_EMBED_ARGS = {"model", "input", "dimensions", "encoding_format", "user"}


def _sse_chunks(response, endpoint, model, timeout, secrets, on_notice):
    import httpx2

    data: list[str] = []
    lines = response.iter_lines()
    try:
        for line in lines:
            if line.startswith("data:"):
                data.append(line[6:] if line.startswith("data: ") else line[5:])
                continue
            if line or not data:
                continue
            payload, data = "\n".join(data), []
            if payload.startswith("[DONE]"):
                # Read the body to its end (servers end it right after [DONE]): over HTTP/1.1 a
                # response closed half-read closes its connection, and each next request would
                # pay a new TCP (and TLS) handshake.
                for _ in lines:
                    pass
                return
            chunk = _parse_chunk(payload, on_notice)
            if chunk is not None:
                yield chunk
        if data and not data[0].startswith("[DONE]"):
            chunk = _parse_chunk("\n".join(data), on_notice)
            if chunk is not None:
                yield chunk
    except httpx2.TimeoutException:
        raise errors.TimeoutError(
            f"{model} stopped sending for {timeout:g} s mid-reply. The partial text is kept; re-run, "
            f"or allow longer pauses with %llm_config timeout=300."
        ) from None
    except (httpx2.TransportError, httpx2.StreamError) as exc:
        raise errors.IncompleteReply(
            f"The connection to {endpoint.base_url} broke mid-reply "
            f"({errors.redact(str(exc) or type(exc).__name__, [*secrets, endpoint.api_key])}). "
            f"The partial text is kept; re-run to retry."
        ) from None


def _parse_chunk(payload: str, on_notice) -> dict | None:
    try:
        chunk = json.loads(payload)
    except json.JSONDecodeError:
        note = f"skipped a malformed chunk from the server ({len(payload):,} bytes that are not JSON)"
        if on_notice:
            on_notice(note)
        # The live notice goes when the reply is shown; a reply missing a piece must say so for good.
        print(f"jupyter-llm: {note}; the reply may miss a few words.", file=sys.stderr)
        return None
    if isinstance(chunk, dict) and chunk.get("error") and not chunk.get("choices"):
        error = chunk["error"]
        message = error.get("message") if isinstance(error, dict) else str(error)
        raise errors.GatewayError(f"The model server reported an error mid-reply: {message}")
    return chunk if isinstance(chunk, dict) else None


def _no_channel(exc) -> bool:
    return getattr(exc, "status_code", None) == 503 and "no available channel" in _message(exc).lower()


def _retry_after(exc) -> float | None:
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


def _message(exc) -> str:
    body = getattr(exc, "body", None)
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        if isinstance(inner.get("message"), str):
            return inner["message"]
    return str(getattr(exc, "message", "") or exc)


def translate(exc, *, endpoint: Endpoint, model: str, timeout: float, secrets=(), attempts: int = 1) -> errors.LLMError:
    """Map an openai SDK exception to the matching :mod:`jupyter_llm.errors` class."""
    import openai

    secrets = [*secrets, endpoint.api_key]
    text = errors.redact(_message(exc), secrets)
    status = getattr(exc, "status_code", None)
    where = endpoint.base_url
    tried = f" after {attempts} attempts" if attempts > 1 else ""
    if isinstance(exc, openai.APITimeoutError):
        return errors.TimeoutError(
            f"No answer from {where} within {timeout:g} s{tried}. The gateway may be busy: try again, "
            f"or allow longer with %llm_config timeout=300."
        )
    if isinstance(exc, openai.APIConnectionError):
        cause = errors.redact(str(exc.__cause__ or exc), secrets)
        return errors.ConnectionError(
            f"Could not reach the gateway at {where}{tried} ({cause}). Check the URL "
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
    if status == 404 or _no_channel(exc):
        return errors.ModelNotFound(
            f"The gateway has no model {model!r} for this key ({status}: {text}). "
            f"Run %llm_models to see the models it serves.",
            model=model,
            status_code=status,
        )
    if status == 429:
        wait = _retry_after(exc)
        hint = f" It asked to wait {wait:g} s." if wait else ""
        return errors.RateLimitError(
            f"The gateway is rate-limiting this key (429){tried}.{hint} Wait and re-run, lower the "
            f"concurrency of batch jobs, or raise %llm_config max_retries.",
            retry_after=wait,
            status_code=status,
        )
    if status in (400, 413, 422):
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
    if status is not None and status >= 500:
        return errors.GatewayError(
            f"The gateway failed ({status}){tried}: {text.rstrip('.')}. This is on the server side: try "
            f"again later, or raise %llm_config max_retries.",
            status_code=status,
        )
    if isinstance(exc, openai.APIError):
        return errors.GatewayError(f"The model server reported an error mid-reply: {text}")
    return errors.LLMError(f"{type(exc).__name__}: {text}")


_default: Transport | None = None


def default_transport() -> Transport:
    """The process-wide transport (one connection pool per endpoint)."""
    global _default
    if _default is None:
        _default = Transport()
    return _default
