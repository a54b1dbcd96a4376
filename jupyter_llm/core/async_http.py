"""HTTP from a coroutine: the openai SDK's async client, for the requests of a batch.

The batch loop (:mod:`.event_loop`) sends many requests at once through this transport,
with the same rules as :mod:`.http`: a limiter slot per request (held by a chat until its
stream is closed), the SDK's retries off and ours on (waiting without holding a slot),
errors translated by :mod:`.http_errors`, chat streams read by :mod:`.sse`.
"""
from __future__ import annotations

import asyncio
import json
from typing import Any

from . import limiter, sse
from .http import chat_arguments, client_options, embeddings_arguments, next_wait
from .transport import Request, Transport


class AsyncHTTPTransport(Transport):
    """Answers :meth:`handle_async` with ``openai.AsyncOpenAI``; clients are cached per endpoint.

    An async client belongs to the loop it first ran on, so the cache starts afresh on another.
    """

    def __init__(self):
        self._clients: dict[tuple, Any] = {}
        self._loop: asyncio.AbstractEventLoop | None = None

    async def handle_async(self, request: Request):
        if request.kind == "chat":
            return self._chat(request)
        if request.kind == "embeddings":
            body, extra = embeddings_arguments(request)
            raw = await self._send(request, lambda client: client.embeddings.with_raw_response.create(
                **body, extra_body=extra))
            return json.loads(raw.http_response.content)
        if request.kind == "rerank":
            return await self._send(request, lambda client: client.post("/rerank", body=request.body, cast_to=object))
        raise ValueError(f"unknown request kind for a batch: {request.kind!r}")

    def _client(self, request: Request):
        import openai

        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._clients, self._loop = {}, loop
        key, options = client_options(request)
        client = self._clients.get(key)
        if client is None:
            client = self._clients[key] = openai.AsyncOpenAI(**options)
        return client

    async def _chat(self, request: Request):
        model, body = chat_arguments(request)
        # Messages travel in extra_body, as JSON already: the SDK would walk each one (see http.py).
        opened = await self._open(request, limiter.estimate_tokens(body), lambda client: (
            client.chat.completions.with_streaming_response.create(
                model=model, messages=[], stream=True, extra_body=body).__aenter__()))
        ok = False
        try:
            async for chunk in sse.achunks(opened, request):
                yield chunk
            ok = True
        finally:
            # The slot is held until here: a reply in progress is load on the gateway.
            limiter.shared().release(ok)
            await opened.close()

    async def _send(self, request: Request, call):
        answer = await self._open(request, 0, call)
        limiter.shared().release(True)
        return answer

    async def _open(self, request: Request, tokens: int, call):
        """``await call(client)`` holding a limiter slot, which the caller gives back; retried as in :mod:`.http`."""
        shared = limiter.shared()
        client = self._client(request)
        attempt = 0
        while True:
            await shared.acquire(tokens)
            try:
                return await call(client)
            except asyncio.CancelledError:
                shared.release(False)
                raise
            except Exception as exc:
                failure = exc
            shared.release(False)
            # Out of the except clause, so the SDK's exception (its frames hold the headers) is no context.
            try:
                wait, status = next_wait(failure, request, attempt)
            finally:
                failure = None
            attempt += 1
            await shared.abackoff(wait, asyncio.sleep, rate_limited=status == 429)
