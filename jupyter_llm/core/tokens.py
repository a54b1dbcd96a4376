"""A fast local estimate of a prompt's size in tokens, and the warning when it nears the context.

No tokenizer is downloaded: the estimate counts characters. Latin-script text and code run
about four characters to a token in the Qwen tokenizers; a CJK character is about one token
on its own, so Chinese text costs roughly four times as much per character. The estimate
errs high, because it only decides when to warn or which old turns to leave out; the
server's own count still decides, and its refusal maps to ``ContextTooLong``.
"""
from __future__ import annotations

import re

# CJK ideographs and radicals, kana, Hangul, and full-width forms: about one token each.
_CJK = re.compile("[\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\U00020000-\U0002fa1f]+")
#: Tokens the chat template adds around each message (role markers, separators).
MESSAGE_OVERHEAD = 4
#: Tokens for one image of about a megapixel (Qwen2.5-VL: one token per 28×28 patch).
IMAGE_TOKENS = 1_340
#: Warn once the prompt plus the room kept for the reply reaches this share of the context.
NEAR = 0.85


def estimate_tokens(text: str) -> int:
    """Rough number of tokens in ``text``: a CJK character is one, other text ~4 characters each.

    Example::

        estimate_tokens("Explain this data frame.")  # 6
        estimate_tokens("解释这个数据框")              # 7
    """
    # Runs, not single characters: a megabyte of Chinese is counted in ~1 ms, not ~100 ms.
    cjk = 0 if text.isascii() else sum(m.end() - m.start() for m in _CJK.finditer(text))
    return cjk + -(-(len(text) - cjk) // 4)


def estimate_messages(messages: list[dict]) -> int:
    """Rough prompt tokens of a ``messages`` list, images and tool calls included."""
    total = 0
    for message in messages:
        total += MESSAGE_OVERHEAD
        content = message.get("content")
        if isinstance(content, str):
            total += estimate_tokens(content)
        elif isinstance(content, list):
            for part in content:
                if not isinstance(part, dict):
                    continue
                if part.get("type") == "image_url":
                    total += IMAGE_TOKENS
                elif isinstance(part.get("text"), str):
                    total += estimate_tokens(part["text"])
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += estimate_tokens(str(function.get("name", "")) + str(function.get("arguments", "")))
    return total


def context_warning(messages: list[dict], context: int | None, max_tokens: int | None = None,
                    *, model: str = "the model") -> str | None:
    """A warning when ``messages`` (plus ``max_tokens`` for the reply) near or pass ``context``.

    Example::

        context_warning([{"role": "user", "content": "hi " * 40_000}], 32_768, model="qwen3-32b")
        # 'the prompt is about 30,004 tokens, ... near qwen3-32b's context of 32,768 ...'
    """
    if not context:
        return None
    prompt = estimate_messages(messages)
    needed = prompt + (max_tokens or 0)
    if needed < NEAR * context:
        return None
    room = f" plus max_tokens={max_tokens:,} for the reply" if max_tokens else ""
    if needed > context:
        return (f"the prompt is about {prompt:,} tokens{room}, over {model}'s context of {context:,} "
                f"tokens: the gateway will likely refuse it. Shorten the prompt, interpolate less data, "
                f"or use a model with a longer context (%llm_models).")
    return (f"the prompt is about {prompt:,} tokens{room}, near {model}'s context of {context:,} "
            f"tokens: the reply may be cut short.")
