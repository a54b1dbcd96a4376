"""HTTP from a coroutine, for the requests of a batch: aiohttp, with the SDK's errors.

The batch loop (:mod:`.event_loop`) sends many requests at once through this transport,
with the same rules as :mod:`.http`: a limiter slot per request (held by a chat until its
stream is closed), our retries (waiting without holding a slot), errors translated by
:mod:`.http_errors`, chat streams read line by line as in :mod:`.sse`.

Why aiohttp and not ``openai.AsyncOpenAI``: measured against the emulator in its own
process, 16 streamed 20-token replies at a time, the async SDK costs 2.3 ms of client CPU
per request, httpx alone 1.7 ms (its layers of iterators per chunk, two socket writes
per request), aiohttp 0.57 ms (a C parser). A batch of thousands of rows is bound by that
CPU. A refusal is turned into the openai SDK's own exception for its status, so a batch
row and an ``ask()`` fail with the same translated error.
"""
from __future__ import annotations

import asyncio
import atexit
import json
import os
from typing import Any

from .. import errors
from . import limiter, sse, whole_reply
from .http import chat_arguments, next_wait
from .transport import Request, Transport

#: The SDK's exception for each status it names (as its client maps them); others are APIStatusError.
_STATUS_ERRORS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
                  404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
                  429: "RateLimitError"}
_PATHS = {"chat": "/chat/completions", "embeddings": "/embeddings", "rerank": "/rerank"}
#: Client sessions kept open at once: one per endpoint and headers, and notebooks use few.
_KEEP = 8


class AsyncHTTPTransport(Transport):
    """Answers :meth:`handle_async` with aiohttp; one client session per endpoint, timeout and headers.

    A session belongs to the loop it was made on, so the cache starts afresh on another.
    """

    def __init__(self):
        self._sessions: dict[tuple, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._pid = os.getpid()  # a forked child inherits the sessions, not the thread of their loop
        # Closed at exit, or aiohttp warns on stderr about every session still open.
        atexit.register(self.close)

    def close(self) -> None:
        sessions, self._sessions = list(self._sessions.values()), {}
        if sessions and self._pid == os.getpid() and self._loop is not None and self._loop.is_running():
            asyncio.run_coroutine_threadsafe(_close(sessions), self._loop).result(timeout=5)

    async def handle_async(self, request: Request):
        if request.kind == "chat":
            model, body = chat_arguments(request)
            if not request.stream:
                # vLLM refuses stream_options on a request that does not stream.
                body.pop("stream_options", None)
                body.update(model=model, stream=False)
                return self._whole(request, body)
            body.update(model=model, stream=True)
            return self._chat(request, body)
        if request.kind in _PATHS:
            response = await self._open(request, 0, request.body)
            try:
                return json.loads(await response.read())
            finally:
                response.release()
                limiter.shared().release(True)
        raise ValueError(f"unknown request kind for a batch: {request.kind!r}")

    def _session(self, request: Request):
        import aiohttp  # heavy: only a batch needs it

        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._sessions, self._loop, self._pid = {}, loop, os.getpid()
        endpoint = request.endpoint
        headers = dict(request.headers)
        key = (endpoint.base_url, endpoint.api_key, endpoint.auth, request.timeout, tuple(sorted(headers.items())))
        session = self._sessions.get(key)
        if session is None:
            if len(self._sessions) >= _KEEP:
                loop.create_task(_close([self._sessions.pop(next(iter(self._sessions)))]))
            # As the SDK does: Bearer, and a stand-in key when there is none (a server without
            # auth ignores it). The gateway manual sends the bare key: auth = "raw".
            raw = endpoint.auth == "raw" and endpoint.api_key
            headers["Authorization"] = endpoint.api_key if raw else f"Bearer {endpoint.api_key or 'no-key'}"
            headers["Content-Type"] = "application/json"
            session = self._sessions[key] = aiohttp.ClientSession(
                headers=headers, connector=aiohttp.TCPConnector(limit=0),  # the limiter bounds requests
                timeout=aiohttp.ClientTimeout(total=None, connect=request.timeout, sock_read=request.timeout))
        return session

    async def _chat(self, request: Request, body: dict):
        response = await self._open(request, limiter.estimate_tokens(body), body)
        ok = False
        try:
            async for chunk in sse.achunks(response, request):
                yield chunk
            ok = True
        finally:
            # The slot is held until here: a reply in progress is load on the gateway.
            response.release()
            limiter.shared().release(ok)

    async def _whole(self, request: Request, body: dict):
        """The chunks of a reply asked for whole: one body read, one parse (see :mod:`.whole_reply`)."""
        import aiohttp  # heavy: only a batch needs it

        response = await self._open(request, limiter.estimate_tokens(body), body)
        ok = False
        try:
            content = await response.read()
            ok = True
        except asyncio.TimeoutError:
            raise errors.TimeoutError(
                f"{request.model} sent no reply within {request.timeout:g} s (asked for whole, nothing arrives "
                f"before the end); re-run, or allow longer with %llm_config timeout=300.") from None
        except aiohttp.ClientError as exc:
            reason = errors.redact(str(exc) or type(exc).__name__, request.all_secrets())
            raise errors.IncompleteReply(f"The connection to {request.endpoint.base_url} broke before the reply "
                                         f"ended ({reason}); re-run to retry.") from None
        finally:
            response.release()
            limiter.shared().release(ok)
        try:
            document = json.loads(content)
        except ValueError:
            raise errors.GatewayError(f"The reply from {request.model} is not JSON ({len(content):,} bytes); "
                                      f"re-run to retry.") from None
        for chunk in whole_reply.chunks(document, request):
            yield chunk

    async def _open(self, request: Request, tokens: int, body: dict):
        """The response to ``body`` (status 2xx), holding a limiter slot that the caller gives back."""
        import aiohttp

        shared = limiter.shared()
        session = self._session(request)
        url = request.endpoint.base_url.rstrip("/") + _PATHS[request.kind]
        data = json.dumps(body, ensure_ascii=False).encode()
        attempt = 0
        while True:
            await shared.acquire(tokens)
            try:
                response = await session.post(url, data=data)
                if response.status < 400:
                    return response
                failure = _status_error(response.status, response.headers, await response.read(), url)
                response.release()
            except asyncio.CancelledError:
                shared.release(False)
                raise
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                failure = _connection_error(exc, url)
            shared.release(False)
            # Out of the except clause, so the client's exception (its frames hold the headers) is no context.
            try:
                wait, status = next_wait(failure, request, attempt)
            finally:
                failure = None
            attempt += 1
            await shared.abackoff(wait, asyncio.sleep, rate_limited=status == 429)


async def _close(sessions) -> None:
    for session in sessions:
        await session.close()


def _status_error(status: int, headers, content: bytes, url: str):
    """The openai SDK's exception for this refusal, built as its client builds it."""
    import httpx2
    import openai

    text = content.decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
        message = f"Error code: {status} - {body}"
    except ValueError:
        body, message = text, text or f"Error code: {status}"
    response = httpx2.Response(status, headers=list(headers.items()), content=content,
                               request=httpx2.Request("POST", url))
    data = body.get("error", body) if isinstance(body, dict) else body
    kind = _STATUS_ERRORS.get(status) or ("InternalServerError" if status >= 500 else "APIStatusError")
    return getattr(openai, kind)(message, response=response, body=data)


def _connection_error(exc: BaseException, url: str):
    """The openai SDK's exception for a request that got no answer: a timeout, or a connection failure."""
    import httpx2
    import openai

    request = httpx2.Request("POST", url)
    if isinstance(exc, asyncio.TimeoutError):
        return openai.APITimeoutError(request=request)
    return openai.APIConnectionError(message=f"Connection error: {type(exc).__name__}: {exc}", request=request)
