"""A planned chat reply as the bytes on the wire: SSE chunks, or one ``chat.completion``.

vLLM-style envelopes carry ``stop_reason``; SGLang-style ones carry ``matched_stop``,
``usage: null`` and every delta field, null or not. Chunk envelopes are pre-rendered
around each delta, which keeps a 24,000-token stream to one ``json.dumps`` per chunk.
"""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from ._chat import Reply
from ._tools import assemble

_EOS = 151645  # Qwen's <|im_end|>, what SGLang reports as the matched stop
_DONE = b"data: [DONE]\n\n"
_SGLANG_DELTA = {"role": None, "content": None, "reasoning_content": None, "tool_calls": None}

#: Sentinel yielded by :func:`stream` when the connection must be dropped, not ended.
ABORT = None


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _usage(reply: Reply) -> dict:
    completion = reply.completion_tokens
    usage = {"prompt_tokens": reply.prompt_tokens, "total_tokens": reply.prompt_tokens + completion,
             "completion_tokens": completion, "prompt_tokens_details": None}
    if reply.server == "sglang":
        usage["reasoning_tokens"] = reply.reasoning_tokens
    else:
        usage["completion_tokens_details"] = {"reasoning_tokens": reply.reasoning_tokens}
    return usage


def chunks(reply: Reply) -> list[tuple[dict, int]]:
    """The reply's deltas grouped ``chunk_tokens`` at a time, with each one's token count."""
    return [(delta, count) for delta, count, _ in _grouped(reply)]


def _grouped(reply: Reply) -> list[tuple[dict, int, list[str]]]:
    """Each delta, its token count, and the answer tokens it carries (for logprobs)."""
    size = max(1, reply.settings["chunk_tokens"])
    out: list[tuple[dict, int, list[str]]] = []
    key, texts, count = None, [], 0
    for part in reply.parts:
        if part.key == "tool_calls":
            if texts:
                out.append(({key: "".join(texts)}, count, texts if key == "content" else []))
                texts, count = [], 0
            out.append(({"tool_calls": part.value}, part.tokens, []))
            key = None
            continue
        if texts and (part.key != key or part.split or count >= size):
            out.append(({key: "".join(texts)}, count, texts if key == "content" else []))
            texts, count = [], 0
        key = part.key
        texts.append(part.value)
        count += part.tokens
    if texts:
        out.append(({key: "".join(texts)}, count, texts if key == "content" else []))
    return out


def logprobs(tokens: list[str], top: int) -> dict:
    """OpenAI-style ``logprobs`` for ``tokens``: deterministic values, ``top`` alternatives each."""
    entries = []
    for token in tokens:
        value = -(sum(token.encode()) % 997) / 400
        alternatives = [{"token": token, "logprob": value, "bytes": list(token.encode())}]
        alternatives += [{"token": f"{token}{i}", "logprob": value - i, "bytes": list(f"{token}{i}".encode())}
                         for i in range(1, top)]
        entries.append({"token": token, "logprob": value, "bytes": list(token.encode()),
                        "top_logprobs": alternatives[:top]})
    return {"content": entries}


def _delta(reply: Reply, delta: dict) -> dict:
    if reply.server == "sglang":
        return {**_SGLANG_DELTA, **delta}
    if reply.settings["reasoning"] == "sglang":
        return {"reasoning_content": None, **delta}
    return delta


def _choice_lines(reply: Reply, index: int) -> Iterator[tuple[bytes, int]]:
    """One choice's chunks rendered one by one (logprobs, several choices): every delta, then its finish."""
    sglang = reply.server == "sglang"
    envelope = {"id": reply.id, "object": "chat.completion.chunk", "created": reply.created, "model": reply.model}

    def line(delta: dict, tokens: list[str], finish=None) -> bytes:
        choice = {"index": index, "delta": _delta(reply, delta),
                  "logprobs": logprobs(tokens, reply.top_logprobs) if reply.top_logprobs is not None and tokens
                  else None, "finish_reason": finish}
        if sglang:
            choice["matched_stop"] = (reply.stop_reason or _EOS) if finish == "stop" else None
        else:
            choice["stop_reason"] = reply.stop_reason if finish else None
        chunk = {**envelope, "choices": [choice], **({"usage": None} if sglang else {})}
        return f"data: {_dumps(chunk)}\n\n".encode()

    yield line({"role": "assistant", "content": ""}, []), 0
    for delta, count, tokens in _grouped(reply):
        yield line(delta, tokens), count
    yield line({}, [], reply.finish_reason), 0


def _usage_line(reply: Reply) -> bytes:
    return (f'data: {{"id":{_dumps(reply.id)},"object":"chat.completion.chunk",'
            f'"created":{reply.created},"model":{_dumps(reply.model)},"choices":[],'
            f'"usage":{_dumps(_usage(reply))}}}\n\n').encode()


def stream(reply: Reply, fault: str | None, echo: str = "") -> Iterator[tuple[bytes | None, int]]:
    """SSE lines and the tokens each carries; ``(ABORT, 0)`` means drop the connection.

    ``echo`` is appended to the message of an error chunk (the caller's token, quoted).
    """
    if reply.extra or reply.top_logprobs is not None or reply.stop_reason:
        # Several choices interleave one chunk each, as servers send them.
        streams = [_choice_lines(r, i) for i, r in enumerate([reply, *reply.extra])]
        while streams:
            for lines in list(streams):
                item = next(lines, None)
                if item is None:
                    streams.remove(lines)
                else:
                    yield item
        if reply.include_usage:
            yield _usage_line(reply), 0
        yield _DONE, 0
        return
    s, sglang = reply.settings, reply.server == "sglang"
    head = (f'data: {{"id":{_dumps(reply.id)},"object":"chat.completion.chunk",'
            f'"created":{reply.created},"model":{_dumps(reply.model)},"choices":[{{"index":0,"delta":')
    extra = ',"matched_stop":null}],"usage":null}' if sglang else ',"stop_reason":null}]}'
    tail = f',"logprobs":null,"finish_reason":null{extra}\n\n'.encode()
    finish = reply.finish_reason
    matched = _EOS if sglang and finish == "stop" else None
    extra = f',"matched_stop":{_dumps(matched)}}}],"usage":null}}' if sglang else ',"stop_reason":null}]}'
    last_tail = f',"logprobs":null,"finish_reason":{_dumps(finish)}{extra}\n\n'.encode()

    def line(delta: dict, end: bytes = tail) -> bytes:
        return (head + _dumps(_delta(reply, delta))).encode() + end

    yield line({"role": "assistant", "content": ""}), 0
    deltas = chunks(reply)
    separate = s["finish"] == "separate" or not deltas
    cut_at = s["cut_after"] if fault in ("cut", "cut-done", "error-chunk", "drop", "malformed") else None
    broken = (head + '{"content":"\\u').encode() + b"\n\n"  # cut inside a JSON escape
    sent = 0
    for i, (delta, tokens) in enumerate(deltas):
        if cut_at is not None and sent >= cut_at:
            if fault != "malformed":
                yield from _end_early(fault, echo)
                return
            yield broken, 0  # one broken line, then carry on
            cut_at = None
        is_last = i == len(deltas) - 1 and not separate
        yield line(delta, last_tail if is_last else tail), tokens
        sent += tokens
    if cut_at is not None:  # a reply shorter than cut_after
        if fault != "malformed":
            yield from _end_early(fault, echo)
            return
        yield broken, 0
    if separate:
        yield line({}, last_tail), 0
    if reply.include_usage:
        yield _usage_line(reply), 0
    yield _DONE, 0


def _end_early(fault: str | None, echo: str = "") -> Iterator[tuple[bytes | None, int]]:
    if fault == "error-chunk":
        error = {"error": {"message": "Internal server error: the engine stopped while generating "
                           "this reply." + echo, "type": "internal_error", "code": 500}}
        yield f"data: {_dumps(error)}\n\n".encode(), 0
        yield _DONE, 0
    elif fault == "cut-done":
        yield _DONE, 0
    elif fault == "drop":
        yield ABORT, 0


def completion(reply: Reply) -> dict:
    """The non-streaming ``chat.completion`` body."""
    sglang = reply.server == "sglang"
    choices = [_message_choice(r, i) for i, r in enumerate([reply, *reply.extra])]
    body = {"id": reply.id, "object": "chat.completion", "created": reply.created,
            "model": reply.model, "choices": choices, "usage": _usage(reply)}
    if not sglang:
        body.update(service_tier=None, system_fingerprint=None, prompt_logprobs=None)
    return body


def _message_choice(reply: Reply, index: int) -> dict:
    sglang = reply.server == "sglang"
    texts: dict[str, list[str]] = {"content": [], "reasoning": [], "reasoning_content": []}
    fragments = []
    for part in reply.parts:
        if part.key == "tool_calls":
            fragments.append(part.value)
        else:
            texts[part.key].append(part.value)
    calls = assemble(fragments)
    if not sglang:
        for call in calls:
            call.pop("index", None)
    content = "".join(texts["content"]) or None  # vLLM: null when the model wrote no answer text
    key = reply.reasoning_key
    reasoning = "".join(texts[key]) or None
    if sglang:
        message = {"role": "assistant", "content": content, "reasoning_content": reasoning,
                   "tool_calls": calls or None}
    else:
        message = {"role": "assistant", "content": content, "refusal": None, "annotations": None,
                   "audio": None, "function_call": None, "tool_calls": calls, key: reasoning}
    tokens = [p.value for p in reply.parts if p.key == "content"]
    choice = {"index": index, "message": message,
              "logprobs": logprobs(tokens, reply.top_logprobs) if reply.top_logprobs is not None else None,
              "finish_reason": reply.finish_reason}
    if sglang:
        choice["matched_stop"] = (reply.stop_reason or _EOS) if reply.finish_reason == "stop" else None
    else:
        choice["stop_reason"] = reply.stop_reason
    return choice
