"""Reading a chat completion's event stream: ``data:`` lines to chunk dicts.

The lines are parsed with ``json`` here: several times cheaper per chunk than building SDK
objects, and a plain dict is what a cassette records anyway.
"""
from __future__ import annotations

import json

from .. import errors
from .notes import note
from .transport import Request


def chunks(response, request: Request):
    """Yield each chunk of ``response`` (an open SDK stream) as a dict, until ``[DONE]``."""
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
            chunk = _parse(payload, request)
            if chunk is not None:
                yield chunk
        if data and not data[0].startswith("[DONE]"):
            chunk = _parse("\n".join(data), request)
            if chunk is not None:
                yield chunk
        return
    except (httpx2.TransportError, httpx2.StreamError) as exc:
        failure = exc
    # Raised out here: inside the except clause, httpx's exception (whose frames hold the request
    # headers) would ride along as the error's context.
    broken, failure = _broken(failure, request), None
    raise broken[0] from broken[1]


def _broken(exc, request: Request) -> tuple[errors.LLMError, errors.Cause]:
    import httpx2

    if isinstance(exc, httpx2.TimeoutException):
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
