"""The local prompt-size estimate and the context warning, through ask() against the emulator."""
from __future__ import annotations

import pytest

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.tokens import context_warning, estimate_messages, estimate_tokens


def test_cjk_text_costs_more_per_character():
    english = "The quarterly report shows steady growth in every region."
    chinese = "季度报告显示各地区均稳步增长。"
    assert estimate_tokens(english) == -(-len(english) // 4)
    assert estimate_tokens(chinese) == len(chinese)
    assert estimate_tokens(chinese) / len(chinese) > 3 * estimate_tokens(english) / len(english)
    assert estimate_tokens("") == 0


def test_messages_count_text_parts_images_and_tool_calls():
    image = {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA"}}
    plain = estimate_messages([{"role": "user", "content": "hello"}])
    with_image = estimate_messages([{"role": "user", "content": [{"type": "text", "text": "hello"}, image]}])
    assert with_image > plain + 1_000
    call = {"role": "assistant", "content": None,
            "tool_calls": [{"function": {"name": "lookup", "arguments": '{"city": "Paris"}'}}]}
    assert estimate_messages([call]) > estimate_messages([{"role": "assistant", "content": None}])


def test_warning_near_and_over_the_context():
    small = [{"role": "user", "content": "word " * 100}]
    assert context_warning(small, 32_768) is None
    near = context_warning([{"role": "user", "content": "word " * 24_000}], 32_768, model="m")
    assert "near m's context of 32,768" in near
    over = context_warning([{"role": "user", "content": "word " * 24_000}], 32_768, 8_000, model="m")
    assert "over m's context" in over and "max_tokens=8,000" in over
    assert context_warning(small, None) is None


def test_estimate_is_not_below_what_the_server_counts(llm, emulator):
    prompt = "Summarise 数据分析 for the team. " * 50
    reply = jupyter_llm.ask(prompt, model="qwen72b-awq", display=False)
    assert estimate_messages([{"role": "user", "content": prompt}]) >= reply.usage.prompt_tokens


def test_ask_warns_before_sending_and_the_server_still_decides(llm, emulator, capsys):
    text = "数" * 30_000  # 30,000 characters, far past a 16K context in CJK, not in characters / 4
    with pytest.raises(errors.ContextTooLong):
        jupyter_llm.ask(text, model="qwen72b-awq", display=False)
    assert "over qwen72b-awq's context of 16,384 tokens" in capsys.readouterr().err
    assert len([r for r in emulator.requests if r["path"].endswith("/chat/completions")]) == 1
