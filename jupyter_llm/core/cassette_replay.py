"""Replaying one recorded exchange: a stream's chunks at their recorded pace (or at once),
any other answer as it came, and a recorded refusal raised again as its own error class."""
from __future__ import annotations

import asyncio
import time

from .. import errors
from . import cassette_format

#: What a recorded error keeps beside its class, message and status, to be rebuilt whole.
_ERROR_ATTRS = ("model", "available", "limit", "requested", "retry_after", "request_id")


def replay(kind: str, record: dict, speed: float):
    """The recorded answer: a chat's chunks as an iterator, another answer as it came."""
    if kind == "chat":
        return _replay_stream(record, speed)
    if "error" in record:
        raise _rebuild(record["error"])
    return record["response"]


def _replay_stream(record: dict, speed: float):
    for wait, chunk in cassette_format.decode_chunks(record):
        if speed and wait:
            time.sleep(wait / speed)
        yield chunk
    if "error" in record:
        raise _rebuild(record["error"])


async def replay_stream_async(record: dict, speed: float):
    """A recorded chat's chunks, for a coroutine: the pace kept without blocking the loop."""
    for wait, chunk in cassette_format.decode_chunks(record):
        if speed and wait:
            await asyncio.sleep(wait / speed)
        yield chunk
    if "error" in record:
        raise _rebuild(record["error"])


def error_record(exc: errors.LLMError) -> dict:
    """What a cassette keeps of a refusal, so a replay raises the same error."""
    out = {"type": type(exc).__name__, "message": str(exc), "status_code": exc.status_code}
    out.update({name: getattr(exc, name) for name in _ERROR_ATTRS if getattr(exc, name, None) is not None})
    return out


def _rebuild(data: dict) -> errors.LLMError:
    cls = getattr(errors, data.get("type", ""), None)
    if not (isinstance(cls, type) and issubclass(cls, errors.LLMError)):
        cls = errors.LLMError
    exc = cls(data["message"], status_code=data.get("status_code"))
    for name in _ERROR_ATTRS:
        if name in data:
            setattr(exc, name, data[name])
    return exc
