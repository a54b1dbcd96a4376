"""The one place that talks HTTP: openai SDK clients, retries, and the limiter's slots.

The SDK opens each request (auth, headers, status errors); chat streams are read as
lines by :mod:`.sse`. Errors leave this module translated by :mod:`.http_errors`.
"""
from __future__ import annotations

import json
import random
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from .. import errors
from . import limiter, sse
from .http_errors import cause, retry_after, retryable, translate
from .transport import Request, Transport

_BACKOFF_CAP = 8.0
_RETRY_AFTER_CAP = 60.0
#: Fields of an embeddings body that the SDK's ``create`` takes as arguments; others go in ``extra_body``.
_EMBED_ARGS = {"model", "input", "dimensions", "encoding_format", "user"}


class HTTPTransport(Transport):
    """Sends requests with the openai SDK and retries what is worth retrying.

    SDK clients are cached per endpoint, timeout and headers, so connections are reused
    across cells. The SDK's own retries are off: this class retries itself, so a wait can
    be shown to the user and a refusal that will not change (an unknown model) is not retried.
    """

    def __init__(self, sleep: Callable[[float], None] = time.sleep):
        self._clients: dict[tuple, Any] = {}
        self._lock = threading.Lock()
        self._sleep = sleep

    def prepare(self, request: Request) -> None:
        # Creating the client imports the SDK: done first, time to first token measures the gateway.
        self._client(request)

    def handle(self, request: Request):
        if request.kind == "chat":
            return self._chat(request)
        if request.kind == "embeddings":
            return self._embeddings(request)
        if request.kind == "rerank":
            return self._send(request, lambda client: client.post("/rerank", body=request.body, cast_to=object))
        if request.kind == "models":
            page = self._send(request, lambda client: client.models.list())
            return [m.model_dump() for m in page.data]
        if request.kind == "billing":
            path = f"/dashboard/billing/{request.body['route']}"
            return self._send(request, lambda client: client.get(path, cast_to=object))
        raise ValueError(f"unknown request kind {request.kind!r}")

    def close(self) -> None:
        with self._lock:
            clients, self._clients = list(self._clients.values()), {}
        for client in clients:
            client.close()

    def _client(self, request: Request):
        import openai

        key, options = client_options(request)
        with self._lock:
            client = self._clients.get(key)
            if client is None:
                client = self._clients[key] = openai.OpenAI(**options)
        return client

    def _chat(self, request: Request) -> Iterator[dict]:
        model, body = chat_arguments(request)
        # The slot is held until the stream is closed: a reply in progress is load on the gateway.
        with limiter.shared().slot(limiter.estimate_tokens(body)):
            opened = self._open(
                request,
                # Messages and options travel in extra_body, as the JSON they already are: given
                # as arguments, the SDK walks every message to transform it, a third of its CPU
                # per request, which a batch of concurrent rows queues for under the GIL.
                lambda client: client.chat.completions.with_streaming_response.create(
                    model=model, messages=[], stream=True, extra_body=body).__enter__())
            try:
                yield from sse.chunks(opened, request)
            finally:
                opened.close()

    def _embeddings(self, request: Request) -> dict:
        body, extra = embeddings_arguments(request)
        raw = self._send(request, lambda client: client.embeddings.with_raw_response.create(
            **body, extra_body=extra))
        return json.loads(raw.http_response.content)

    def _send(self, request: Request, call):
        with limiter.shared().slot():
            return self._open(request, call)

    def _open(self, request: Request, call):
        client = self._client(request)
        attempt = 0
        while True:
            try:
                return call(client)
            except Exception as exc:
                failure = exc
            # Handled out here, not in the except clause: an error raised there would carry the
            # SDK's exception as its context, and that exception's frames hold the request headers.
            try:
                wait, status = next_wait(failure, request, attempt)
            finally:
                failure = None
            attempt += 1
            limiter.shared().backoff(wait, self._sleep, rate_limited=status == 429)


def client_options(request: Request) -> tuple[tuple, dict]:
    """The cache key of an SDK client for ``request``, and the arguments that create it."""
    endpoint, headers = request.endpoint, dict(request.headers)
    key = (endpoint.base_url, endpoint.api_key, endpoint.auth, request.timeout, tuple(sorted(headers.items())))
    if endpoint.auth == "raw" and endpoint.api_key:
        # The gateway manual sends the bare key; the SDK would prefix "Bearer".
        headers["Authorization"] = endpoint.api_key
    return key, dict(base_url=endpoint.base_url, api_key=endpoint.api_key or "no-key", timeout=request.timeout,
                     max_retries=0, default_headers=headers)


def chat_arguments(request: Request) -> tuple[str, dict]:
    """The model and the rest of a chat body, as sent: streamed, with usage, extra_body merged."""
    body = dict(request.body, stream_options={"include_usage": True})
    body.pop("stream", None)
    model = body.pop("model", "")
    body |= body.pop("extra_body", None) or {}
    return model, body


def embeddings_arguments(request: Request) -> tuple[dict, dict | None]:
    """An embeddings body split into the SDK's arguments and its ``extra_body``."""
    # The SDK's parsing would turn every vector into Python floats; the caller reads the raw body
    # to decode base64 straight into a float32 block.
    body = dict(request.body)
    extra = {k: body.pop(k) for k in list(body) if k not in _EMBED_ARGS}
    return body, extra or None


def next_wait(failure: Exception, request: Request, attempt: int) -> tuple[float, int | None]:
    """After attempt number ``attempt`` (0 first) failed with ``failure``: how long to wait before
    the next, and the HTTP status; or the translated error raised, when no other try is due."""
    import openai

    if not isinstance(failure, openai.OpenAIError):
        error, failure = refused(failure, request), None
        raise error
    if not retryable(failure) or attempt >= request.max_retries:
        error = translate(failure, request, attempts=attempt + 1)
        reason, failure = cause(failure, request.all_secrets()), None
        raise error from reason
    status = getattr(failure, "status_code", None)
    wait = retry_after(failure)
    failure = None
    if wait is None:
        wait = min(_BACKOFF_CAP, 0.5 * 2**attempt) * (1 + 0.25 * random.random())
    wait = min(wait, _RETRY_AFTER_CAP)
    if request.on_notice:
        reason = f"HTTP {status}" if status else "connection failed"
        request.on_notice(f"{reason}; retrying in {wait:.1f} s "
                          f"(attempt {attempt + 2} of {request.max_retries + 1})")
    return wait, status


def refused(exc: Exception, request: Request) -> errors.ConfigError:
    """What the HTTP layer raised before sending (a header it cannot encode, a bad value), as a
    ConfigError with the key removed. Settings are checked before this point; this is the net."""
    text = errors.redact(f"{type(exc).__name__}: {exc}", request.all_secrets())
    return errors.ConfigError(
        f"The request to {request.endpoint.base_url} could not be built ({text}). Check the key, "
        f"extra_headers and base_url (%llm_config shows them).")
