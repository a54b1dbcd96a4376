"""map() against a failing gateway: a row's attempts are bounded once and told truly, and a
dead gateway stops the batch at once with the unsent rows left for a re-run."""
from __future__ import annotations

import time

import pytest
from support import closed_url

import jupyter_llm
from jupyter_llm import errors

MODEL = "qwen3-32b"
ROWS = [f"review number {i}" for i in range(10)]


def chats(emulator) -> list[dict]:
    return [r for r in emulator.requests if r["path"].endswith("/chat/completions")]


@pytest.mark.parametrize("retries, settings, sent", [
    (None, {}, 3),                       # the session's max_retries (2): three attempts per row
    (1, {}, 2),                          # map(retries=1) is the one bound, whatever the session says
    (None, {"max_retries": 0}, 1),       # max_retries given to this call
])
def test_each_row_is_tried_retries_plus_one_times_and_says_so(llm, emulator, retries, settings, sent):
    """10 rows against a server answering 500 used to make 90 requests (the transport retried under
    every retry of the row) while each reason said "after 3 attempts"."""
    llm.extra_headers = {"X-Emulator": "fault=500"}
    llm.max_retries = 2
    out = jupyter_llm.map(ROWS, "Classify: {text}", model=MODEL, think=False, concurrency=4,
                          progress=False, retries=retries, **settings)
    assert len(chats(emulator)) == sent * len(ROWS)
    reasons = list(out.attrs["errors"].values())
    assert len(reasons) == len(ROWS) and out.isna().all()
    assert all(r.endswith(f"(after {sent} attempts)") if sent > 1 else "attempts" not in r for r in reasons)
    assert "after 3 attempts" not in " ".join(reasons) or sent == 3


@pytest.mark.timeout(60)
def test_a_dead_gateway_stops_the_batch_at_once_and_leaves_the_rest_unsent(llm, emulator, capsys):
    """A refused connection cost about 0.84 s a row at concurrency 8: 14 minutes for 1,000 rows."""
    rows = [f"text {i}" for i in range(400)]
    jupyter_llm.map(rows[:5], "Summarise: {text}", model=MODEL, think=False, progress=False)  # answered, cached
    llm.base_url = closed_url()
    start = time.perf_counter()
    with pytest.raises(errors.ConnectionError) as caught:
        jupyter_llm.map(rows, "Summarise: {text}", model=MODEL, think=False, concurrency=8, progress=False)
    elapsed = time.perf_counter() - start
    assert elapsed < 5, f"gave up on a dead gateway after {elapsed:.1f} s"
    text = str(caught.value)
    assert "cannot be reached" in text and "400 rows: 5 answered" in text and "not sent" in text
    unsent = int(text.split(" not sent")[0].split("; ")[-1].replace(",", ""))
    assert unsent >= 380, "rows that were never sent are not counted as failed"
    # The gateway is back: the same call sends every row without an answer, and only those.
    llm.base_url = emulator.url
    before = len(chats(emulator))
    out = jupyter_llm.map(rows, "Summarise: {text}", model=MODEL, think=False, concurrency=8, progress=False)
    # (Up to one row per worker, sent as the batch stopped, may finish on its own meanwhile.)
    assert out.notna().all() and 395 <= len(chats(emulator)) - before <= 395 + 8


def test_rows_stream_until_replies_prove_short_then_come_whole_with_the_same_answers(llm, emulator):
    """A row nobody watches is read whole once the first replies were quick: the thinking is
    still split off, the usage still counted, and the answers are those a stream gives."""
    from jupyter_llm.core.usage import totals
    from jupyter_llm.data.batch_policy import PROBE_ROWS

    rows = [f"gift idea number {i}" for i in range(PROBE_ROWS + 12)]
    llm.extra_headers = {"X-Emulator": "reasoning=inline; reasoning_tokens=12; answer_tokens=8"}
    out = jupyter_llm.map(rows, "Rate this: {text}", model="qwen3-30b-a3b", think=True, concurrency=4)
    sent = [r["body"]["stream"] for r in chats(emulator)]
    assert sent[:PROBE_ROWS] == [True] * PROBE_ROWS and sent.count(False) >= 8
    assert out.notna().all() and not out.str.contains("think>").any()
    for i in (-3, -2, -1):  # asked whole: the answers a stream of the same request gives
        streamed = jupyter_llm.ask(f"Rate this: {rows[i]}", model="qwen3-30b-a3b", think=True, display=False)
        assert out.iloc[i] == streamed.content
    logged = jupyter_llm.log(None, kind="chat")
    rows_logged = logged[logged["batch"].notna()]
    assert len(rows_logged) == len(rows)
    assert rows_logged["reasoning"].str.len().gt(0).all() and rows_logged["completion_tokens"].gt(0).all()
    assert totals(last_batch=True).loc["qwen3-30b-a3b", "completion_tokens"] == rows_logged["completion_tokens"].sum()


def test_a_whole_row_that_times_out_is_retried_streamed_and_the_batch_streams_from_then_on(llm, emulator):
    """A slow reply sends nothing until its end when asked whole: the row is tried again as a
    stream, which keeps the connection busy, and so is every row after it."""
    from jupyter_llm.data.batch_policy import PROBE_ROWS

    rows = [f"slow reply {i}" for i in range(PROBE_ROWS + 8)]
    llm.timeout = 0.4  # longer than any pause between chunks, shorter than a whole reply
    llm.extra_headers = {"X-Emulator": "answer_tokens=8; rate=10"}
    out = jupyter_llm.map(rows, "Say: {text}", model="qwen72b-awq", concurrency=4, retries=1)
    assert out.notna().all() and not out.attrs["errors"]
    sent = [r["body"]["stream"] for r in chats(emulator)]
    assert 1 <= sent.count(False) <= 4, "rows after the probe went whole (at most the 4 in flight), and timed out"
    assert sent[-1] is True and sent.count(True) == len(rows), "each timed-out row came back as a stream"


def test_delivery_goes_whole_after_quick_probes_and_streams_for_good_after_a_slow_reply():
    from jupyter_llm.data.batch_policy import Delivery

    delivery = Delivery(probe=2, under=10.0)
    assert not delivery.whole
    delivery.finished(0.2)
    assert not delivery.whole
    delivery.finished(0.3)
    assert delivery.whole
    delivery.finished(11.0)  # replies got long: proxies may cut a silent request
    assert not delivery.whole
    delivery.finished(0.1)
    assert not delivery.whole
    held = Delivery(enabled=False, probe=0)
    assert not held.whole, "a token budget needs the stream, to stop a reply where it crosses"
    timed_out = Delivery(probe=0)
    timed_out.failed(errors.RateLimitError("busy"), whole=True)
    assert timed_out.whole, "a 429 says nothing about the reply's length"
    timed_out.failed(errors.TimeoutError("silent"), whole=True)
    assert not timed_out.whole
