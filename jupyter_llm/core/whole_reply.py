"""A chat completion read whole (``stream: false``), as the chunks its stream would have been.

A batch row is not shown while it arrives, so it can be asked for in one JSON body: one
parse per reply instead of one per token, on the one thread that runs every row. Everything
above the transport (the cassette, the budget's meter, :mod:`.stream`) keeps reading chunks,
so the body is turned into them here: a chunk per choice with its whole message as the
delta (``reasoning`` or ``reasoning_content``, thinking inline in ``content``, ``refusal``,
tool calls given their ``index``), its finish reason and stop, its log probabilities, then
the usage chunk with no choices. The same reply read either way gives the same
:class:`~jupyter_llm.core.reply.Reply`.

Example::

    chunks(json.loads(body), request)   # [{"choices": [{"delta": {...}, "finish_reason": "stop"}]}, {"usage": ...}]
"""
from __future__ import annotations

from .. import errors
from .transport import Request

#: Message fields that stream as text in a delta.
_TEXT = ("content", "reasoning", "reasoning_content", "refusal")
#: Choice fields that a stream carries beside the delta, in the chunk with the finish reason.
_BESIDE = ("logprobs", "stop_reason", "matched_stop")
_ENVELOPE = ("id", "created", "model", "system_fingerprint")


def chunks(document, request: Request) -> list[dict]:
    """The stream's chunks of a ``chat.completion`` body; an error body raises as a stream's would."""
    if not isinstance(document, dict):
        raise errors.GatewayError(f"The model server answered {request.model} with something that is not a chat "
                                  f"completion ({type(document).__name__}); re-run to retry.")
    failure = document.get("error") or (document.get("message") if document.get("object") == "error" else None)
    if failure and not document.get("choices"):
        text = failure.get("message") if isinstance(failure, dict) else failure
        raise errors.GatewayError(
            f"The model server reported an error: {errors.redact(str(text), request.all_secrets())}")
    envelope = {"object": "chat.completion.chunk", **{k: document[k] for k in _ENVELOPE if k in document}}
    out = [{**envelope, "choices": [_choice(choice)]} for choice in document.get("choices") or ()
           if isinstance(choice, dict)]
    usage = document.get("usage")
    if usage:
        out.append({**envelope, "choices": [], "usage": usage})
    return out


def _choice(choice: dict) -> dict:
    message = choice.get("message") or {}
    delta = {"role": message.get("role") or "assistant"}
    delta.update((key, message[key]) for key in _TEXT if isinstance(message.get(key), str) and message[key])
    calls = message.get("tool_calls")
    if calls:
        # A stream tells its calls apart by index; a whole message lists them in order.
        delta["tool_calls"] = [{**call, "index": call.get("index", i)} for i, call in enumerate(calls)]
    out = {"index": choice.get("index") or 0, "delta": delta, "finish_reason": choice.get("finish_reason")}
    out.update((key, choice[key]) for key in _BESIDE if choice.get(key) is not None)
    return out
