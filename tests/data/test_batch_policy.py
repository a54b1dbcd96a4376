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
