"""The session's budget, against the emulator over HTTP: refused before sending, stopped mid-reply
with the text kept, counted from the server's usage, and never spent by a replayed answer."""
from __future__ import annotations

import pytest

from jupyter_llm import ask, embed, errors
from jupyter_llm.core import budget
from jupyter_llm.core.cassette import Cassette


def posts(emulator) -> int:
    return len([r for r in emulator.requests if r["method"] == "POST"])


def test_the_request_budget_refuses_the_next_request_before_it_is_sent(llm, emulator):
    llm.budget_requests = 2
    ask("one", model="qwen3-32b", think=False, display=False)
    embed(["a cat"], model="Qwen3-Embedding-8B")
    with pytest.raises(errors.BudgetExceeded) as stopped:
        ask("three", model="qwen3-32b", think=False, display=False)
    assert posts(emulator) == 2
    assert "budget of 2 requests is spent (2 sent): nothing was sent" in str(stopped.value)
    assert "%llm_config budget_requests=N" in str(stopped.value)
    assert isinstance(stopped.value, errors.QuotaExceeded)  # code that handles a spent quota handles this
    assert budget.left(llm) == ["budget: 0 of 2 requests left"]


def test_tokens_are_the_servers_count_and_a_prompt_that_would_go_over_is_not_sent(llm, emulator):
    llm.budget_tokens = 10_000
    reply = ask("hello", model="qwen3-32b", think=False, display=False)
    assert budget.spent().tokens == reply.usage.total_tokens
    with pytest.raises(errors.BudgetExceeded, match="needs about .* tokens and the session's budget has"):
        ask("word " * 40_000, model="qwen3-32b", think=False, display=False)
    assert posts(emulator) == 1


@pytest.mark.parametrize("streamed", ["content", "reasoning"])
def test_a_reply_that_crosses_the_budget_is_stopped_and_its_text_kept(llm, emulator, streamed):
    llm.budget_tokens = 60
    llm.extra_headers = {"X-Emulator": "reasoning_tokens=400; answer_tokens=10" if streamed == "reasoning"
                         else "answer_tokens=400"}
    with pytest.raises(errors.BudgetExceeded) as stopped:
        ask("Write a long essay.", model="qwen3-32b", think=streamed == "reasoning", display=False)
    kept = stopped.value.reply
    assert kept is not None and len(getattr(kept, streamed)) > 40 and kept.finish_reason is None
    if streamed == "reasoning":
        assert not kept.content, "stopped in the reasoning, before the answer"
    assert "stopped at the session's budget of 60 tokens" in str(stopped.value)
    assert 60 < budget.spent().tokens < 80  # stopped at the crossing, not at the end of 400 tokens
    assert budget.left(llm) == ["budget: 0 of 60 tokens left"]


def test_replayed_answers_are_free_and_a_budget_stop_is_not_recorded(llm, emulator, tmp_path):
    tape = tmp_path / "answers.llm.jsonl"
    with Cassette(tape, "record"):
        ask("hello", model="qwen3-32b", think=False, display=False)
    budget.reset()
    llm.budget_requests = 1
    with Cassette(tape, "replay"):
        for _ in range(3):
            ask("hello", model="qwen3-32b", think=False, display=False)
    assert budget.spent().requests == 0
    recorded = tape.read_text()
    llm.budget_requests = 0
    with Cassette(tape, "auto"), pytest.raises(errors.BudgetExceeded):
        ask("a new question", model="qwen3-32b", think=False, display=False)
    # The session's own limit is no answer of the gateway: a later run must send the request.
    assert tape.read_text() == recorded


def test_a_batch_stops_at_the_budget_and_a_rerun_sends_only_the_rows_left(llm, emulator):
    import jupyter_llm

    rows = [f"review {i}" for i in range(6)]
    llm.budget_requests = 4
    with pytest.raises(errors.BudgetExceeded):
        jupyter_llm.map(rows, "Classify: {text}", model="qwen3-32b", think=False, concurrency=1)
    assert posts(emulator) == 4
    llm.budget_requests = 10
    done = jupyter_llm.map(rows, "Classify: {text}", model="qwen3-32b", think=False, concurrency=1)
    assert done.notna().all() and posts(emulator) == 6, "the four answered rows came from the cache"


def test_a_batch_row_is_metered_as_a_cell_is(llm, emulator):
    """map() and embed() send from coroutines: the same admission and the same count as ask()."""
    import jupyter_llm

    from jupyter_llm.core import event_loop
    from jupyter_llm.core.client import Client

    llm.budget_tokens = 10_000
    body = {"model": "Qwen3-Embedding-8B", "input": ["a cat sat on the mat", "a dog ran"]}
    answer = Client(llm).embeddings(body)
    by_thread = budget.spent()
    assert by_thread == budget.Spent(1, answer["usage"]["total_tokens"]), "the server's count, not the estimate"
    budget.reset()
    again = event_loop.submit(Client(llm).embeddings_async(body)).result(timeout=30)
    assert again["usage"] == answer["usage"]
    assert budget.spent() == by_thread
    budget.reset()
    llm.budget_tokens = 60
    llm.extra_headers = {"X-Emulator": "answer_tokens=400"}
    with pytest.raises(errors.BudgetExceeded, match="stopped at the session's budget of 60 tokens"):
        jupyter_llm.map(["Write a long essay."], "{text}", model="qwen3-32b", think=False, cache=False,
                        progress=False)
    assert 60 < budget.spent().tokens < 80, "stopped at the crossing, not at the end of 400 tokens"


def test_a_replayed_batch_is_free(llm, emulator, tmp_path):
    import jupyter_llm

    tape = tmp_path / "rows.llm.jsonl"
    rows = [f"review {i}" for i in range(3)]
    with Cassette(tape, "record"):
        first = jupyter_llm.map(rows, "Classify: {text}", model="qwen3-32b", think=False, cache=False, progress=False)
    budget.reset()
    llm.budget_requests = 0
    with Cassette(tape, "replay"):
        again = jupyter_llm.map(rows, "Classify: {text}", model="qwen3-32b", think=False, cache=False, progress=False)
    assert again.tolist() == first.tolist() and budget.spent().requests == 0
