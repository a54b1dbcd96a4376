"""map() over DataFrames, Series and lists, against the emulator over real HTTP."""
from __future__ import annotations

import _thread
import threading
import time

import pandas as pd
import pytest
from pydantic import BaseModel

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core import limiter

MODEL = "qwen3-32b"  # the catalogue says it honours response_format
PLAIN = "qwen72b-awq"  # nothing known about structured outputs: prompt, then parse
REVIEWS = ["The zipper broke after two days", "Lovely colour and a perfect fit", "Arrived late, box crushed",
           "Battery lasts all week", "Sizes run small, order one up", "Would buy again for my sister"]


def chats(emulator) -> list[dict]:
    return [r["body"] for r in emulator.requests if r["path"] == "/v1/chat/completions"]


def frame() -> pd.DataFrame:
    return pd.DataFrame({"review": REVIEWS, "stars": [1, 5, 2, 5, 3, 4]}, index=[f"r{i}" for i in (5, 3, 0, 4, 1, 2)])


def test_answers_line_up_with_the_input_index(llm, emulator):
    df = frame()
    out = jupyter_llm.map(df, "Stars: {stars}. Classify this review: {review}", model=MODEL, think=False,
                          concurrency=3)
    assert isinstance(out, pd.Series) and list(out.index) == list(df.index)
    for label, row in df.iterrows():
        # The emulator quotes the prompt it was sent, so each answer names its own row.
        assert f"Stars: {row.stars}. Classify this review: {row.review}" in out[label], label
    assert len(chats(emulator)) == len(df)


def test_a_series_and_a_list_fill_the_template_or_follow_it(llm, emulator):
    series = pd.Series(REVIEWS[:3], index=[7, 3, 9], name="review")
    out = series.llm.map("Summarise: {}", model=MODEL, think=False)
    assert list(out.index) == [7, 3, 9] and all(f"Summarise: {t}" in out[i] for i, t in series.items())
    listed = jupyter_llm.map(REVIEWS[:2], "Translate to French", model=MODEL, think=False)
    assert list(listed.index) == [0, 1]
    sent = [b["messages"][-1]["content"] for b in chats(emulator)[-2:]]
    assert sorted(sent) == sorted(f"Translate to French\n\n{t}" for t in REVIEWS[:2])


def test_a_dataframe_accessor_does_the_same(llm):
    out = frame().llm.map("Classify: {review}", model=MODEL, think=False, schema={"label": ["pos", "neg"]})
    assert list(out.columns) == ["label"] and set(out["label"]) <= {"pos", "neg"}


def test_short_form_schema_becomes_typed_columns_via_response_format(llm, emulator):
    df = frame()
    out = jupyter_llm.map(df, "Classify: {review}", model=MODEL, think=False,
                          schema={"label": ["positive", "negative"], "score": float, "stars": int, "tags": [str]})
    assert list(out.index) == list(df.index) and list(out.columns) == ["label", "score", "stars", "tags"]
    assert out["label"].dtype == "category" and list(out["label"].cat.categories) == ["positive", "negative"]
    assert str(out["stars"].dtype) == "Int64" and out["score"].dtype == "float64"
    assert all(isinstance(t, list) for t in out["tags"])
    body = chats(emulator)[-1]
    assert body["response_format"]["type"] == "json_schema"
    assert body["response_format"]["json_schema"]["schema"]["properties"]["label"]["enum"] == ["positive", "negative"]
    assert out.attrs["errors"] == {}


def test_a_model_without_structured_outputs_gets_the_schema_in_the_prompt(llm, emulator):
    class Review(BaseModel):
        product: str
        rating: int

    out = jupyter_llm.map(frame(), "Extract from: {review}", model=PLAIN, schema=Review)
    assert list(out.columns) == ["product", "rating"] and out["rating"].notna().all()
    body = chats(emulator)[-1]
    assert "response_format" not in body
    assert "JSON Schema" in body["messages"][0]["content"] and body["messages"][0]["role"] == "system"


def test_a_json_schema_dict_is_used_as_given(llm):
    schema = {"type": "object", "properties": {"language": {"type": "string", "enum": ["en", "fr"]},
                                               "words": {"type": "integer", "minimum": 1, "maximum": 9}},
              "required": ["language", "words"]}
    out = jupyter_llm.map(REVIEWS, "Language and word count of: {text}", model=MODEL, think=False, schema=schema)
    assert set(out["language"]) <= {"en", "fr"} and out["words"].between(1, 9).all()


def test_failed_rows_get_nan_and_their_reason_and_a_summary(llm, emulator, capsys):
    llm.max_retries = 0
    llm.extra_headers = {"X-Emulator": "fault=500; fault_times=2"}
    df = frame()
    out = jupyter_llm.map(df, "Classify: {review}", model=MODEL, think=False, schema={"label": ["pos", "neg"]},
                          concurrency=1, retries=0)
    failed = out.attrs["errors"]
    assert list(failed) == list(df.index[:2]) and "failed (500)" in failed[df.index[0]]
    assert out.loc[df.index[:2], "label"].isna().all() and out.loc[df.index[2:], "label"].notna().all()
    assert out["errors"].notna().sum() == 2
    err = capsys.readouterr().err
    assert "6 rows: 4 answered" in err and "2 failed (2 GatewayError" in err
    # Re-running sends only the failed rows (the fault is used up, so they succeed now).
    before = len(chats(emulator))
    again = jupyter_llm.map(df, "Classify: {review}", model=MODEL, think=False, schema={"label": ["pos", "neg"]},
                            concurrency=1, retries=0)
    assert len(chats(emulator)) - before == 2 and again["label"].notna().all() and "errors" not in again


def test_retries_recover_a_row_that_failed_once(llm, emulator):
    llm.max_retries = 0
    llm.extra_headers = {"X-Emulator": "fault=502; fault_times=1"}
    out = jupyter_llm.map(REVIEWS[:3], "Classify: {text}", model=MODEL, think=False, concurrency=1, retries=1)
    assert out.notna().all() and len(chats(emulator)) == 4


def test_an_answer_cut_by_max_tokens_is_a_failed_row_not_garbage(llm):
    out = jupyter_llm.map(REVIEWS[:2], "Classify: {text}", model=MODEL, think=False, max_tokens=3,
                          schema={"label": ["pos", "neg"], "reason": str})
    assert out["label"].isna().all()
    assert all("max_tokens" in m for m in out.attrs["errors"].values())


def test_a_wrong_key_stops_the_batch_instead_of_failing_every_row(llm, emulator):
    from jupyter_llm.emulator import start

    with start(keys={"sk-good-key-000": "*"}) as strict:
        llm.base_url, llm.api_key = strict.url, "sk-wrong-key-000"
        with pytest.raises(errors.AuthenticationError):
            jupyter_llm.map(REVIEWS * 5, "Classify: {text}", model=MODEL, think=False, concurrency=2)
        assert len([r for r in strict.requests if r["path"] == "/v1/chat/completions"]) <= 4


def test_a_missing_column_is_named_before_anything_is_sent(llm, emulator):
    with pytest.raises(errors.ConfigError, match=r"\{text\}, which is not a column; columns: review, stars"):
        jupyter_llm.map(frame(), "Classify: {text}", model=MODEL)
    assert chats(emulator) == []


def test_a_large_batch_needs_confirm(llm, emulator):
    llm.batch_confirm_over = 4
    with pytest.raises(errors.ConfigError, match="would send 6 requests.*confirm=True"):
        jupyter_llm.map(frame(), "Classify: {review}", model=MODEL, max_tokens=50)
    assert chats(emulator) == []
    out = jupyter_llm.map(frame(), "Classify: {review}", model=MODEL, think=False, confirm=True)
    assert out.notna().all()


def test_the_session_limit_keeps_a_batch_under_the_gateway_ceiling(llm, emulator):
    # The emulator refuses a third request in flight; with no retries anywhere a single 429 would fail a row.
    llm.max_concurrency, llm.max_retries = 2, 0
    llm.extra_headers = {"X-Emulator": "latency=0.05-0.15; max_concurrency=2"}
    out = jupyter_llm.map([f"item {i}" for i in range(12)], "Classify: {text}", model=MODEL, think=False,
                          concurrency=8, retries=0)
    assert out.notna().all() and limiter.shared().throttled == 0


def test_429s_beyond_the_ceiling_slow_the_batch_and_lose_no_row(llm, emulator):
    llm.max_concurrency = 12
    llm.extra_headers = {"X-Emulator": "latency=0.1; max_concurrency=3; retry_after=0.1"}
    texts = [f"item {i}" for i in range(24)]
    out = jupyter_llm.map(texts, "Classify: {text}", model=MODEL, think=False, concurrency=12)
    assert out.notna().all() and out.attrs["errors"] == {}
    assert limiter.shared().throttled > 0 and limiter.shared().cap is not None and limiter.shared().cap < 12


def test_an_interrupt_keeps_finished_rows_and_a_rerun_sends_only_the_rest(llm, emulator):
    llm.extra_headers = {"X-Emulator": "latency=0.1"}
    texts = [f"review number {i}" for i in range(30)]

    def interrupt_after_some_rows():
        while len(chats(emulator)) < 6:
            time.sleep(0.02)
        _thread.interrupt_main()

    threading.Thread(target=interrupt_after_some_rows, daemon=True).start()
    with pytest.raises(KeyboardInterrupt):  # outside a kernel an interrupt stops the script
        jupyter_llm.map(texts, "Classify: {text}", model=MODEL, think=False, concurrency=2)
    time.sleep(0.5)  # the two rows on the wire finish and are cached
    sent_first = len(chats(emulator))
    assert 6 <= sent_first < 30
    emulator.reset()
    out = jupyter_llm.map(texts, "Classify: {text}", model=MODEL, think=False, concurrency=4)
    assert out.notna().all() and len(chats(emulator)) == 30 - sent_first
    assert "from the cache" in out.attrs["summary"]


def test_usage_is_counted_per_model_and_for_the_last_batch(llm):
    from jupyter_llm.core import usage

    jupyter_llm.ask("hello", model=MODEL, think=False, display=False)
    jupyter_llm.map(REVIEWS[:3], "Classify: {text}", model=PLAIN)
    session, last = usage.totals(), usage.totals(last_batch=True)
    assert session.loc[MODEL, "requests"] == 1 and session.loc[PLAIN, "requests"] == 3
    assert session.loc["total", "requests"] == 4 and session.loc["total", "total_tokens"] > 0
    assert list(last.index) == [PLAIN, "total"] and last.loc[PLAIN, "requests"] == 3


def test_identical_rows_are_sent_once_and_answered_alike(llm, emulator):
    texts = ["Too small", "Great value", "Too small", "Too small", "Great value"]
    out = jupyter_llm.map(pd.Series(texts, index=list("abcde")), "Classify: {}", model=MODEL, think=False,
                          schema={"label": ["pos", "neg"]})
    assert len(chats(emulator)) == 2
    assert out.loc["a", "label"] == out.loc["c", "label"] == out.loc["d", "label"]
    assert out.loc["b", "label"] == out.loc["e", "label"]


def test_a_server_that_refuses_response_format_gets_the_schema_in_the_prompt(llm, emulator, capsys):
    llm.extra_headers = {"X-Emulator": "structured=false"}
    out = jupyter_llm.map(REVIEWS[:4], "Classify: {text}", model=MODEL, think=False,
                          schema={"label": ["pos", "neg"]}, concurrency=2)
    assert out["label"].notna().all() and out.attrs["errors"] == {}
    refused = [b for b in chats(emulator) if "response_format" in b]
    assert 1 <= len(refused) <= 2, "at most the rows already in flight try it"
    assert "refused response_format" in capsys.readouterr().err


@pytest.mark.parametrize("bad", [dict(concurrency=0), dict(retries=-1), dict(rpm=-5), dict(tpm="many")])
def test_bad_limits_are_refused_before_anything_is_sent(llm, emulator, bad):
    with pytest.raises(errors.ConfigError, match="must be a whole number"):
        jupyter_llm.map(REVIEWS, "Classify: {text}", model=MODEL, **bad)
    assert chats(emulator) == []


def test_a_batch_sends_from_one_thread_not_one_per_row(llm, emulator):
    llm.max_concurrency = 16
    llm.extra_headers = {"X-Emulator": "latency=0.2"}
    before = {t.ident for t in threading.enumerate()}
    seen: set[str] = set()
    done = threading.Event()

    def watch():
        while not done.is_set():
            seen.update(t.name for t in threading.enumerate() if t.ident not in before)
            time.sleep(0.02)

    watcher = threading.Thread(target=watch, name="watcher")
    watcher.start()
    try:
        out = jupyter_llm.map([f"item {i}" for i in range(40)], "Classify: {text}", model=PLAIN, think=False,
                              concurrency=16, progress=False)
    finally:
        done.set()
        watcher.join()
    # The in-process emulator serves each connection from a thread of its own: not the client's.
    ours = {name for name in seen if name != "watcher" and "process_request" not in name}
    assert out.notna().all()
    # At most the batch loop's thread, the call log's writer and asyncio's small pool that looks up
    # host names when connections open: not the 16 threads of a thread per request.
    assert len(ours) <= 7 and not any(name.startswith("jupyter-llm-map") for name in ours), sorted(ours)
