"""Chat requests to the gateway emulator: check them, then plan the whole reply.

A reply is planned up front as a list of token-sized *parts* (reasoning, content or a
tool-call fragment); ``_wire`` turns the same plan into an SSE stream or one JSON
body, so streamed and non-streamed replies always agree.
"""
from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from . import _checks, _images, _json, _text, _tools
from ._errors import bad_request, context_exceeded

_HUGE_WORDS = 13_200  # one chunk past one-api's 64 KiB line limit
_TAG_PIECES = {"<thi", "nk>\n", "</thi", "nk>\n\n"}  # how _reasoning_parts cuts the inline tags


class Part(NamedTuple):
    """One token-sized piece of a reply.

    ``key`` is the delta field it travels in (``content``, ``reasoning``,
    ``reasoning_content`` or ``tool_calls``); ``split`` forces a chunk boundary before
    it (how a tag gets cut in two); ``thought`` marks reasoning, wherever it travels.
    """

    key: str
    value: Any
    tokens: int = 1
    split: bool = False
    thought: bool = False


@dataclass
class Reply:
    """A planned chat completion."""

    id: str
    created: int
    model: str
    server: str
    reasoning_key: str
    parts: list[Part]
    finish_reason: str
    prompt_tokens: int
    stream: bool = False
    include_usage: bool = False
    settings: dict = field(default_factory=dict)
    #: The stop string that ended the reply, when one did.
    stop_reason: str | None = None
    #: Alternatives sent with each answer token when the request asks for logprobs (None: no logprobs).
    top_logprobs: int | None = None
    #: The other choices, when the request asks for ``n`` > 1.
    extra: list = field(default_factory=list)

    @property
    def completion_tokens(self) -> int:
        """Every token planned (and, unless a fault cuts it, sent), across the choices."""
        return sum(p.tokens for p in self.parts) + sum(r.completion_tokens for r in self.extra)

    @property
    def reasoning_tokens(self) -> int:
        """The tokens of reasoning, wherever they travel (SGLang reports these)."""
        return sum(p.tokens for p in self.parts if p.thought)


def text_of(content: Any) -> str:
    """The text of a message's ``content`` (a string or a list of parts)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(str(p.get("text", "")) for p in content
                         if isinstance(p, dict) and p.get("type") == "text")
    return ""


def _images_of(messages: list, model: str, vision: bool) -> list[_images.Image]:
    found = []
    for message in messages:
        content = message.get("content")
        for part in content if isinstance(content, list) else []:
            if not isinstance(part, dict) or part.get("type") != "image_url":
                continue
            if not vision:
                raise bad_request(f'Model "{model}" does not support image input: it is not a '
                                  "multimodal model, so image_url content parts are refused.")
            ref = part.get("image_url")
            url = ref.get("url") if isinstance(ref, dict) else ref
            try:
                found.append(_images.read(url))
            except ValueError as exc:
                raise bad_request(f"Invalid image_url: {exc}", "messages") from None
    return found


def _prompt_tokens(messages: list, images: list[_images.Image]) -> int:
    total = sum(image.tokens() for image in images)
    for message in messages:
        text = text_of(message.get("content"))
        for call in message.get("tool_calls") or []:
            text += json.dumps(call, ensure_ascii=False)
        total += _text.estimate_tokens(text) + 4
    return total


def thinking(body: dict, messages: list, settings: dict) -> bool:
    """Whether this request reasons: the hard switch, else the last soft switch wins."""
    if settings["reasoning"] == "none":
        return False
    if not settings["thinking_switch"]:
        return True
    kwargs = body.get("chat_template_kwargs")
    if isinstance(kwargs, dict) and kwargs.get("enable_thinking") is False:
        return False
    state = True
    for message in messages:
        if message.get("role") == "user":
            text = text_of(message.get("content")).rstrip()
            if text.endswith("/no_think"):
                state = False
            elif text.endswith("/think"):
                state = True
    return state


def _last_user_text(messages: list) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            text = text_of(message.get("content")).rstrip()
            for switch in ("/no_think", "/think"):
                text = text.removesuffix(switch)
            return text.strip()
    return ""


def _tool_results(messages: list) -> list[tuple[str, str]]:
    names = {call.get("id"): (call.get("function") or {}).get("name", "tool")
             for m in messages if m.get("role") == "assistant" for call in m.get("tool_calls") or []}
    out = []
    for message in reversed(messages):
        if message.get("role") != "tool":
            break
        name = names.get(message.get("tool_call_id")) or message.get("name") or "tool"
        out.append((name, _text.gist(text_of(message.get("content")), 200)))
    return out[::-1]


def _rounds_since_user(messages: list) -> int:
    """Assistant turns that asked for tool calls since the user last spoke."""
    done = 0
    for message in reversed(messages):
        if message.get("role") == "user":
            break
        if message.get("role") == "assistant" and message.get("tool_calls"):
            done += 1
    return done


def _seed(name: str, body: dict) -> int:
    key = [name, body.get("messages"), body.get("temperature"), body.get("tools")]
    text = json.dumps(key, sort_keys=True, ensure_ascii=False, default=str)
    return int(hashlib.sha256(text.encode()).hexdigest()[:16], 16)


def _earlier(messages: list) -> list[str]:
    """The questions of the earlier turns a multi-turn request carries (all but the last)."""
    asked = [text_of(m.get("content")) for m in messages if m.get("role") == "user"]
    return asked[:-1]


def _quote(text: str) -> str:
    return _text.gist(text).replace("\\", "\\\\").replace("*", "\\*").replace("`", "'")


def _preface(prompt: str, images: list, results: list[tuple[str, str]], earlier: list[str] = ()) -> str:
    lines = []
    if images:
        noun = "image" if len(images) == 1 else "images"
        lines.append(f"I see {len(images)} {noun}: {', '.join(i.describe() for i in images)}.")
    if prompt:
        lines.append(f"You asked: *{_quote(prompt)}*")
    if earlier:
        # Says what history arrived, so a client's conversation can be checked from the reply.
        noun = "question" if len(earlier) == 1 else "questions"
        lines.append(f"Earlier in this conversation: {len(earlier)} {noun}, the last: *{_quote(earlier[-1])}*")
    if results:
        lines.append("The tools returned:\n\n" + "\n".join(
            f"- **{name}**: {text.replace(chr(10), ' ')}" for name, text in results))
    lines.append(_text.NOTICE)
    return "\n\n".join(lines)


def plan(body: dict, name: str, settings: dict, ident: tuple[str, int], fault: str | None) -> Reply:
    """Check a chat request and plan its reply, every choice of it (raises ServerError for a 4xx)."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages or not all(isinstance(m, dict) for m in messages):
        raise bad_request("messages: a non-empty list of message objects is required", "messages")
    _checks.request(body)
    reply = _plan_one(body, name, settings, ident, fault, 0)
    reply.extra = [_plan_one(body, name, settings, ident, None, i) for i in range(1, body.get("n") or 1)]
    return reply


def _plan_one(body: dict, name: str, settings: dict, ident: tuple[str, int], fault: str | None,
              choice: int) -> Reply:
    s = settings
    messages = body["messages"]
    images = _images_of(messages, name, s["vision"])
    tools = body.get("tools") or []
    tool_choice = body.get("tool_choice", "auto")
    if tools and tool_choice != "none" and s["tools"] == "none":
        raise bad_request('"auto" tool choice requires --enable-auto-tool-choice and '
                          "--tool-call-parser to be set")
    prompt_tokens = _prompt_tokens(messages, images)
    max_tokens = body.get("max_completion_tokens") or body.get("max_tokens")
    if max_tokens is not None and (not isinstance(max_tokens, int) or max_tokens < 1):
        raise bad_request(f"max_tokens must be a positive integer, got {max_tokens!r}", "max_tokens")
    if fault == "context":
        raise context_exceeded(s["context"], max(prompt_tokens, s["context"] + 1 - (max_tokens or 0)),
                               max_tokens)
    if prompt_tokens + (max_tokens or 0) > s["context"]:
        raise context_exceeded(s["context"], prompt_tokens, max_tokens)

    rng = random.Random(_seed(name, body) + choice)
    prompt = _last_user_text(messages)
    results = _tool_results(messages)
    calls = []
    done = _rounds_since_user(messages)
    if tools and tool_choice != "none" and messages[-1].get("role") in ("user", "tool") \
            and done < s["tool_rounds"]:
        # Interleaving needs two calls at least, or there is nothing to alternate.
        count = max(s["calls"], 2) if s["tools"] == "interleaved" else s["calls"]
        calls = _tools.synthesise(tools, tool_choice, prompt, count, s["bad_args"] and done == 0,
                                  rng.getrandbits(64), s["tools"])
    structured, fenced = _json.wanted(body, "\n".join(
        text_of(m.get("content")) for m in messages if m.get("role") == "system"), s["structured"])
    parts = _reasoning_parts(body, messages, s, rng, prompt, calls, images, results)
    if isinstance(body.get("response_format"), dict) and body["response_format"].get("type") != "text":
        # Structured outputs constrain the answer; the reasoning parser keeps thought out of it.
        parts = [p._replace(key="reasoning_content") if p.key == "content" else p
                 for p in parts if p.thought and p.value not in _TAG_PIECES]
    if calls:
        parts += [Part("tool_calls", entries, cost, True)
                  for entries, cost in _tools.fragments(calls, s["tools"])]
    elif structured is not None:
        parts += [Part("content", token) for token in _text.tokenize(_json.answer(rng, structured, prompt, fenced))]
    elif s["shape"] == "json-records" and s["answer_tokens"]:
        pieces = _text.records(rng, prompt, s["answer_tokens"], s["chunk_tokens"])
        parts += [Part("content", text, tokens) for text, tokens in pieces]
    else:
        preface = _preface(prompt, images, results, _earlier(messages))
        answer = _text.answer(rng, prompt, s["answer_tokens"], preface, s["shape"])
        parts += [Part("content", token) for token in answer]
    if fault == "huge":
        parts = _with_huge(parts, s["cut_after"])

    truncated = False
    if max_tokens is not None:
        spent, kept = 0, []
        for part in parts:
            if spent + part.tokens > max_tokens:
                truncated = True
                break
            spent += part.tokens
            kept.append(part)
        parts = kept
    parts, stop_reason = _stop(parts, body.get("stop"))
    finish = s["finish_reason"] or ("length" if truncated and not stop_reason else "tool_calls" if calls else "stop")
    options = body.get("stream_options")
    return Reply(
        id=ident[0], created=ident[1], model=name, server=s["server"],
        reasoning_key="reasoning" if s["reasoning"] == "reasoning" else "reasoning_content",
        parts=parts, finish_reason=finish, prompt_tokens=prompt_tokens,
        stream=bool(body.get("stream")),
        include_usage=isinstance(options, dict) and bool(options.get("include_usage")),
        settings=s, stop_reason=stop_reason,
        top_logprobs=(body.get("top_logprobs") or 0) if body.get("logprobs") else None,
    )


def _stop(parts: list[Part], stop) -> tuple[list[Part], str | None]:
    """The parts up to the first stop string in the answer (vLLM leaves the string out), and that string."""
    stops = [stop] if isinstance(stop, str) else [s for s in stop or () if isinstance(s, str) and s]
    if not stops:
        return parts, None
    text = "".join(p.value for p in parts if p.key == "content")
    found = [(text.find(s), s) for s in stops if s in text]
    if not found:
        return parts, None
    cut, matched = min(found)
    kept, seen = [], 0
    for part in parts:
        if part.key != "content":
            kept.append(part)
            continue
        if seen + len(part.value) > cut:
            if cut > seen:
                kept.append(part._replace(value=part.value[:cut - seen]))
            break
        kept.append(part)
        seen += len(part.value)
    return kept, matched


def _reasoning_parts(body, messages, s, rng, prompt, calls, images, results) -> list[Part]:
    mode = s["reasoning"]
    if mode == "none":
        return []
    if not thinking(body, messages, s):
        if mode.startswith("inline"):  # what Qwen3 writes with thinking off
            return [Part("content", "<think>"), Part("content", "\n\n"),
                    Part("content", "</thi"), Part("content", "nk>\n\n", split=True)]
        return []
    hint = ""
    if calls:
        hint = f"I should call {', '.join(sorted({c.name for c in calls}))} first to get the facts."
    elif results:
        hint = "The tool results are in, so now I can answer from them."
    elif images:
        hint = "Let me look at the image carefully first."
    tokens = _text.reasoning(rng, prompt, s["reasoning_tokens"], hint)
    if mode in ("reasoning", "reasoning_content", "sglang"):
        key = "reasoning" if mode == "reasoning" else "reasoning_content"
        return [Part(key, t, thought=True) for t in tokens]
    # Inline: the tags are cut across chunks on purpose, so clients prove they cope.
    opening = [Part("content", "<thi", thought=True), Part("content", "nk>\n", split=True, thought=True)]
    closing = [Part("content", "</thi", thought=True), Part("content", "nk>\n\n", split=True, thought=True)]
    body_parts = [Part("content", t, thought=True) for t in tokens]
    return (opening if mode == "inline" else []) + body_parts + closing


def _with_huge(parts: list[Part], after: int) -> list[Part]:
    spent = 0
    for i, part in enumerate(parts):
        if spent >= after and part.key in ("content", "reasoning", "reasoning_content"):
            huge = Part(part.key, "\n\n" + "lorem " * _HUGE_WORDS + "\n\n", _HUGE_WORDS, True,
                        part.thought)
            return parts[:i] + [huge] + parts[i:]
        spent += part.tokens
    return parts + [Part("content", "lorem " * _HUGE_WORDS, _HUGE_WORDS, True)]
