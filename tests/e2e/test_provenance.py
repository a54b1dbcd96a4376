"""Work that survives the kernel, in real kernels: the call log and the caches across restarts."""
from __future__ import annotations

import json
import signal
import sqlite3
import time

import pytest
from support import Kernel, kernel_value

pytestmark = pytest.mark.timeout(240)

MODEL = "qwen72b-awq"


def chats(emulator) -> list[dict]:
    # A request the kill cut off mid-send arrives without a body: no model ever saw it.
    return [r for r in emulator.requests if r["path"].endswith("/chat/completions") and r["body"]]


def embedding_requests(emulator) -> list[dict]:
    return [r for r in emulator.requests if r["path"].endswith("/embeddings")]


def cached_rows(data_dir) -> int:
    path = data_dir / "cache.db"
    if not path.exists():
        return 0
    with sqlite3.connect(path, timeout=5) as connection:
        try:
            return connection.execute("SELECT count(*) FROM rows").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


@pytest.fixture
def data_dir(kernel_env):
    from pathlib import Path

    return Path(kernel_env["JUPYTER_LLM_DATA_DIR"])


def stop(kernel: Kernel) -> None:
    """Shut the kernel down the way a restart does: it is asked to exit, and exits cleanly."""
    kernel.client.stop_channels()
    kernel.manager.shutdown_kernel(now=False)


def started(kernel_env) -> Kernel:
    k = Kernel(kernel_env)
    k.run("%load_ext jupyter_llm\nimport jupyter_llm, pandas as pd")
    return k


MAP_CELL = f"""rows = pd.DataFrame({{"text": [f"review number {{i}}" for i in range(300)]}})
out = jupyter_llm.map(rows, "Summarise: {{text}}", model={MODEL!r}, concurrency=4, progress=False)
"""


def test_a_map_killed_midway_resumes_in_a_new_kernel_sending_only_the_missing_rows(kernel_env, emulator, data_dir):
    emulator.reset()
    first = started(kernel_env)
    try:
        first.run("jupyter_llm.session.extra_headers = {'X-Emulator': 'latency=0.03'}")
        first.client.execute(MAP_CELL)
        deadline = time.monotonic() + 120
        while cached_rows(data_dir) < 100:
            assert time.monotonic() < deadline, "the batch did not get going"
            time.sleep(0.05)
        first.manager.signal_kernel(signal.SIGKILL)  # nothing runs after this in that kernel
    finally:
        first.shutdown()
    kept = cached_rows(data_dir)
    sent_before = {r["body"]["messages"][-1]["content"] for r in chats(emulator)}
    assert 100 <= kept < 300 and len(sent_before) >= kept

    emulator.reset()
    second = started(kernel_env)
    try:
        second.run(MAP_CELL)
        assert kernel_value(second, "int(out.notna().sum())") == 300, "no row is lost"
        resent = [r["body"]["messages"][-1]["content"] for r in chats(emulator)]
        assert len(resent) == 300 - kept, "only the rows without an answer are sent again"
        assert len(set(resent)) == len(resent), "none is answered twice"
        batches = kernel_value(second, "jupyter_llm.log(None, kind='batch').batch.nunique()")
        runs = kernel_value(second, "int(jupyter_llm.log(None, kind='chat').batch.nunique())")
        assert batches == 1 and runs == 2, "the log shows both runs (the killed one has no batch row)"
    finally:
        second.shutdown()


def test_embeddings_are_not_paid_for_again_after_a_restart(kernel_env, emulator):
    cell = ("texts = [f'sentence {i} about rivers and {i % 7} seas' for i in range(10000)]\n"
            "frame = jupyter_llm.embed(texts, model='Qwen3-Embedding-8B', dimensions=64, batch_size=256)")
    first = started(kernel_env)
    try:
        first.run(cell, timeout=180)
        vectors = kernel_value(first, "jupyter_llm.vectors(frame)[[0, 9999]].round(4).tolist()")
    finally:
        stop(first)
    emulator.reset()
    second = started(kernel_env)
    try:
        second.run(cell, timeout=180)
        assert embedding_requests(emulator) == [], "the second embed() after a restart sends nothing"
        assert kernel_value(second, "jupyter_llm.vectors(frame)[[0, 9999]].round(4).tolist()") == vectors
        assert kernel_value(second, "jupyter_llm.log(1).source.iloc[0]") == "cache"
    finally:
        second.shutdown()


def test_the_log_finds_a_prompt_from_a_previous_kernel(kernel_env, emulator):
    first = started(kernel_env)
    try:
        first.run(f"reply = jupyter_llm.ask('Which river flows through Lyon?', model={MODEL!r})")
        log_id = kernel_value(first, "reply.log_id")
    finally:
        stop(first)
    second = started(kernel_env)
    try:
        found = second.run("%llm_log --search Lyon")
        assert "Lyon" in found.text() and MODEL in found.text()
        assert kernel_value(second, "list(jupyter_llm.log(5, search='Lyon').index)") == [log_id]
        one = second.run(f"%llm_log {log_id}")
        assert "Which river flows through Lyon?" in one.text() and "source: live" in one.text()
        assert "Lyon" not in second.run("%llm_log --search Danube").text()
    finally:
        second.shutdown()


def test_log_content_off_keeps_the_metadata_only_and_log_off_keeps_nothing(kernel_env, emulator):
    k = started(kernel_env)
    try:
        k.run("%llm_config log_content=false")
        k.run(f"jupyter_llm.ask('A confidential question about Zurich', model={MODEL!r})")
        row = kernel_value(k, "jupyter_llm.log(1).iloc[0][['model', 'content', 'messages', 'completion_tokens']]"
                              ".to_dict()")
        assert row["model"] == MODEL and row["content"] is None and row["messages"] is None
        assert row["completion_tokens"] > 0
        assert kernel_value(k, "len(jupyter_llm.log(None, search='Zurich'))") == 0
        k.run("%llm_config log=false")
        k.run(f"jupyter_llm.ask('Another question', model={MODEL!r})")
        assert kernel_value(k, "len(jupyter_llm.log(None))") == 1
    finally:
        k.shutdown()


def test_export_and_forget(kernel_env, emulator, tmp_path):
    k = started(kernel_env)
    try:
        for question in ("one", "two", "three"):
            k.run(f"jupyter_llm.ask('Say {question}.', model={MODEL!r})")
        out = tmp_path / "calls.jsonl"
        k.run(f"%llm_log -n 2 --export {out}")
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert [r["messages"].count("Say") for r in rows] == [1, 1] and "three" in rows[0]["messages"]
        assert "needs --notebook" in k.run("%llm_log --forget").text()
        k.run("%llm_log --forget --all")
        assert kernel_value(k, "len(jupyter_llm.log(None))") == 0
    finally:
        k.shutdown()


def test_two_kernels_writing_the_log_at_once_lose_nothing(kernel_env, emulator):
    cell = ("import threading\n"
            "def many():\n"
            f"    for i in range(40): jupyter_llm.ask(f'question {{i}}', model={MODEL!r}, display=False)\n"
            "threads = [threading.Thread(target=many) for _ in range(2)]\n"
            "[t.start() for t in threads]; [t.join() for t in threads]")
    kernels = [started(kernel_env) for _ in range(2)]
    try:
        for k in kernels:
            k.client.execute(cell)
        for k in kernels:
            k.run("jupyter_llm.core.call_log.flush()", timeout=180)  # after the cell before it has finished
        assert kernel_value(kernels[0], "len(jupyter_llm.log(None, kind='chat'))") == 160
    finally:
        for k in kernels:
            k.shutdown()


def test_the_cache_is_shown_cleared_and_stays_off_disk_when_asked(kernel_env, emulator, data_dir):
    k = started(kernel_env)
    try:
        first = k.run("jupyter_llm.map(['a', 'b'], 'Echo: {}', model=%r, progress=False)" % MODEL)
        assert "cached on disk" in first.text() and "cache=memory" in first.text()
        assert "2 rows and 0 vectors on disk" in k.run("%llm_cache").text()
        k.run("%llm_cache --clear")
        assert cached_rows(data_dir) == 0
        k.run("%llm_config cache=memory")
        k.run("jupyter_llm.map(['c'], 'Echo: {}', model=%r, progress=False)" % MODEL)
        assert cached_rows(data_dir) == 0 and "1 rows and 0 vectors in memory" in k.run("%llm_cache").text()
    finally:
        k.shutdown()


def test_a_replaying_cassette_answers_never_the_cache(kernel_env, emulator, tmp_path):
    tape = tmp_path / "t.llm.jsonl"
    k = started(kernel_env)
    try:
        k.run("jupyter_llm.map(['a'], 'Echo: {}', model=%r, progress=False)" % MODEL)  # cached on disk
        k.run(f"%llm_cassette {tape} --mode record")
        k.run("jupyter_llm.map(['a'], 'Echo: {}', model=%r, progress=False)" % MODEL)
        assert '"kind":"chat"' in tape.read_text(encoding="utf-8"), "recorded from the gateway, not the cache"
        assert kernel_value(k, "jupyter_llm.log(1, kind='chat').source.iloc[0]") == "recorded"
        k.run(f"%llm_cassette {tape} --mode replay")
        k.run("jupyter_llm.map(['a'], 'Echo: {}', model=%r, progress=False)" % MODEL)
        assert kernel_value(k, "jupyter_llm.log(1, kind='chat').source.iloc[0]") == "replayed"
    finally:
        k.shutdown()
