"""The compare panel: one prompt, several models at once, a summary row per model."""
from __future__ import annotations

import pytest

from jupyter_llm import errors
from jupyter_llm.widgets.compare import ComparePanel, compare

pytestmark = pytest.mark.timeout(180)
MODELS = ["qwen3-32b", "qwq-32b", "qwen72b-awq"]


def test_compare_streams_every_model_and_sums_up_one_row_each(llm, emulator):
    panel = compare("Explain a p-value in two sentences.", models=MODELS)
    frame = panel.frame
    assert list(frame.index) == MODELS
    assert (frame["tokens"] > 0).all() and (frame["ttft_s"] > 0).all() and (frame["tokens_per_s"] > 0).all()
    assert (frame["finish_reason"] == "stop").all() and frame["error"].isna().all()
    # Thinking models show their reasoning length; the one without thinking has none.
    assert frame.loc["qwq-32b", "reasoning_chars"] > 0 and frame.loc["qwen72b-awq", "reasoning_chars"] == 0
    assert sorted(r["body"]["model"] for r in emulator.requests if r["path"].endswith("/chat/completions")) \
        == sorted(MODELS)
    for column in panel.columns:
        assert column.reply.content and "first token" in column.stats.value and "tokens/s" in column.stats.value
    assert all(m in panel.summary.value for m in MODELS)


def test_a_failing_model_fills_its_column_with_the_error_and_the_others_finish(llm):
    panel = compare("hello", models=["qwen72b-awq", "no-such-model"])
    assert panel.frame.loc["qwen72b-awq", "finish_reason"] == "stop"
    assert panel.frame.loc["no-such-model", "error"] == "ModelNotFound"
    assert "ModelNotFound" in panel.columns[1].reply_box.footer.value


def test_bad_input_says_what_to_do():
    with pytest.raises(errors.ConfigError, match="Name the models"):
        ComparePanel("hello", models=[" ", ""])
    with pytest.raises(errors.ConfigError, match="prompt is empty"):
        ComparePanel("  ", models=["qwen3-32b"])


def test_stop_ends_every_column_and_keeps_what_arrived(llm):
    import asyncio

    llm.extra_headers = {"X-Emulator": "rate=100; answer_tokens=3000"}

    async def main():
        panel = ComparePanel("Write a long essay.", models=["qwen72b-awq", "qwen32b-awq(试用)"])
        task = panel.start()
        while not all(c.reply_box.flushes for c in panel.columns):
            await asyncio.sleep(0.01)
        panel.stop_button.click()
        return panel, await task

    panel, frame = asyncio.run(main())
    assert list(frame["error"]) == ["stopped", "stopped"]
    assert (frame["answer_chars"] > 0).all() and frame["finish_reason"].isna().all()
    assert all("stopped" in c.reply_box.footer.value for c in panel.columns)
