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


def test_in_a_kernel_four_models_stream_at_once_on_no_thread_each_and_stop_keeps_every_column(kernel):
    from support import kernel_value as value

    models = ["qwen3-32b", "qwq-32b", "qwen72b-awq", "qwen32b-awq(试用)"]
    # A first compare starts what lives for the whole process (the batch loop, the call log's writer).
    assert kernel.run("import asyncio, threading, jupyter_llm\n"
                      "from jupyter_llm.widgets.compare import ComparePanel\n"
                      "await jupyter_llm.compare('hi', models=['qwen72b-awq'])\n"
                      "before = sorted(t.name for t in threading.enumerate())").error is None
    assert kernel.run(
        "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=60; reasoning_tokens=20; answer_tokens=3000'}\n"
        f"panel = ComparePanel('Write a long essay.', models={models!r})\n"
        "fed_on = set()\n"
        "def watch(column):\n"
        "    feed = column.feed\n"
        "    column.feed = lambda events: (fed_on.add(threading.get_ident()), feed(events))\n"
        "for column in panel.columns: watch(column)\n"
        "task = panel.start()\npanel").error is None
    assert kernel.run("while not all(c._chars['answer'] > 200 for c in panel.columns): await asyncio.sleep(0.05)\n"
                      "during = sorted(t.name for t in threading.enumerate())\n"
                      "panel.stop_button.click()\n"
                      "frame = await panel\n"
                      "shown = [c._chars['answer'] for c in panel.columns]\n"
                      "await asyncio.sleep(0.5)").error is None
    # All four were streaming, and not one thread more was running than before.
    assert value(kernel, "during") == value(kernel, "before")
    # The widgets were only ever touched on the kernel's own thread.
    assert value(kernel, "fed_on == {threading.main_thread().ident}") is True
    assert value(kernel, "list(frame['error'])") == ["stopped"] * 4
    assert value(kernel, "bool(frame['finish_reason'].isna().all())") is True
    kept = value(kernel, "[len(c.reply.content) for c in panel.columns]")
    assert all(200 < n < 3000 * 4 for n in kept), kept
    # Nothing arrived after Stop, and each column still shows what it had.
    assert value(kernel, "[c._chars['answer'] for c in panel.columns] == shown") is True
    assert value(kernel, "all('stopped' in c.reply_box.footer.value for c in panel.columns)") is True


def test_a_compare_keeps_the_rules_of_a_cell(llm, emulator, tmp_path):
    from support import unreachable

    from jupyter_llm.core import budget, call_log
    from jupyter_llm.core.cassette import Cassette

    models = ["qwen3-32b", "qwen72b-awq"]
    # The allow-list refuses a model in its column, before anything is sent; the other answers.
    llm.allowed_models = ["qwen3-*"]
    emulator.reset()
    panel = compare("hello", models=models)
    assert panel.frame.loc["qwen72b-awq", "error"] == "ModelNotAllowed"
    assert [r["body"]["model"] for r in emulator.requests if r["path"].endswith("/chat/completions")] == ["qwen3-32b"]
    llm.allowed_models = None
    # The budget stops a column as it stops a cell.
    llm.budget_requests = 0
    assert list(compare("hello", models=models).frame["error"]) == ["BudgetExceeded"] * 2
    llm.budget_requests = None
    # Recorded, logged one row a model, then replayed with no gateway at all, and free.
    tape = tmp_path / "compare.llm.jsonl"
    with Cassette(tape, "record"):
        first = compare("Explain a p-value.", models=models)
    logged = call_log.query("kind = 'chat'", limit=2)
    assert sorted(r["model"] for r in logged) == sorted(models) and {r["source"] for r in logged} == {"recorded"}
    unreachable(llm)
    budget.reset()
    llm.budget_requests = 0
    with Cassette(tape, "replay"):
        again = compare("Explain a p-value.", models=models)
    assert again.frame["error"].isna().all() and budget.spent().requests == 0
    assert [c.reply.content for c in again.columns] == [c.reply.content for c in first.columns]
    assert {r["source"] for r in call_log.query("kind = 'chat'", limit=2)} == {"replayed"}
