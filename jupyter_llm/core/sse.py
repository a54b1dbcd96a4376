"""Reading a chat completion's event stream: ``data:`` lines to chunk dicts.

The lines are parsed with ``json`` here: several times cheaper per chunk than building SDK
objects, and a plain dict is what a cassette records anyway.
"""
from __future__ import annotations

import asyncio
import json

from .. import errors
from .notes import note
from .transport import Request


def chunks(response, request: Request):
    """Yield each chunk of ``response`` (an open SDK stream) as a dict, until ``[DONE]``."""
    import httpx2

    reader = Reader(request)
    lines = response.iter_lines()
    try:
        for line in lines:
            chunk = reader.line(line)
            if chunk is None:
                continue
            if chunk is DONE:
                # Read the body to its end (servers end it right after [DONE]): over HTTP/1.1 a
                # response closed half-read closes its connection, and each next request would
                # pay a new TCP (and TLS) handshake.
                for _ in lines:
                    pass
                return
            yield chunk
        chunk = reader.end()
        if chunk is not None:
            yield chunk
        return
    except (httpx2.TransportError, httpx2.StreamError) as exc:
        failure = exc
    # Raised out here: inside the except clause, httpx's exception (whose frames hold the request
    # headers) would ride along as the error's context.
    broken, failure = _broken(failure, request), None
    raise broken[0] from broken[1]


async def achunks(response, request: Request):
    """:func:`chunks` for an open aiohttp response: an async iterator of chunk dicts.

    The body is split into lines here, from whatever pieces arrive: aiohttp's own line reader
    refuses a line longer than its buffer, and one chunk of a long reply can be that long.
    """
    import aiohttp  # heavy: only a batch needs it

    reader = Reader(request)
    pending = bytearray()
    try:
        async for data in response.content.iter_any():
            pending += data
            if b"\n" not in data:
                continue
            # Decoded once for all the whole lines that arrived: a newline never cuts a character.
            cut = pending.rfind(b"\n")
            lines = pending[:cut].decode("utf-8", "replace").split("\n")
            del pending[:cut + 1]
            for line in lines:
                chunk = reader.line(line.rstrip("\r"))
                if chunk is DONE:
                    async for _ in response.content.iter_any():  # to the end: the connection is reused
                        pass
                    return
                if chunk is not None:
                    yield chunk
        for chunk in (reader.line(pending.rstrip(b"\r").decode("utf-8", "replace")), reader.end()):
            if chunk is not None and chunk is not DONE:
                yield chunk
        return
    except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
        failure = exc
    broken, failure = _broken(failure, request), None
    raise broken[0] from broken[1]


#: What :meth:`Reader.line` returns for ``data: [DONE]``.
DONE: dict = {}


class Reader:
    """Event-stream lines in, chunk dicts out: the line logic shared by both readers."""

    __slots__ = ("request", "_data")

    def __init__(self, request: Request):
        self.request = request
        self._data: list[str] = []

    def line(self, line: str) -> dict | None:
        """The chunk this line completes, :data:`DONE` at the end, or None (nothing yet)."""
        if line.startswith("data:"):
            self._data.append(line[6:] if line.startswith("data: ") else line[5:])
            return None
        if line or not self._data:
            return None
        payload, self._data = "\n".join(self._data), []
        if payload.startswith("[DONE]"):
            return DONE
        return _parse(payload, self.request)

    def end(self) -> dict | None:
        """The chunk of a last event the server did not end with a blank line."""
        if self._data and not self._data[0].startswith("[DONE]"):
            return _parse("\n".join(self._data), self.request)
        return None


def _broken(exc, request: Request) -> tuple[errors.LLMError, errors.Cause]:
    import httpx2

    if isinstance(exc, (httpx2.TimeoutException, asyncio.TimeoutError)):
        return errors.TimeoutError(
            f"{request.model} stopped sending for {request.timeout:g} s mid-reply. The partial text is kept; "
            f"re-run, or allow longer pauses with %llm_config timeout=300."
        ), errors.Cause(type(exc).__name__)
    reason = errors.redact(str(exc) or type(exc).__name__, request.all_secrets())
    return errors.IncompleteReply(
        f"The connection to {request.endpoint.base_url} broke mid-reply ({reason}). "
        f"The partial text is kept; re-run to retry."
    ), errors.Cause(f"{type(exc).__name__}: {reason}")


def _parse(payload: str, request: Request) -> dict | None:
    try:
        chunk = json.loads(payload)
    except json.JSONDecodeError:
        text = f"skipped a malformed chunk from the server ({len(payload):,} bytes that are not JSON)"
        if request.on_notice:
            request.on_notice(text)
        # The live notice goes when the reply is shown; a reply missing a piece must say so for good.
        note(f"{text}; the reply may miss a few words.")
        return None
    if isinstance(chunk, dict) and chunk.get("error") and not chunk.get("choices"):
        error = chunk["error"]
        text = error.get("message") if isinstance(error, dict) else str(error)
        raise errors.GatewayError(
            f"The model server reported an error mid-reply: {errors.redact(str(text), request.all_secrets())}")
    return chunk if isinstance(chunk, dict) else None
