"""Cassettes: record against the emulator, replay with no gateway reachable, explain a miss."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import MIDDLE, TEST_KEY, unreachable

import jupyter_llm
from jupyter_llm import cassette, errors
from jupyter_llm.core.cassette_transport import active
from jupyter_llm.core.client import Client
from jupyter_llm.core.session import catalog



@jupyter_llm.tool
def city_population(city: str) -> dict:
    """Population of a city.

    city: the city name
    """
    return {"city": city, "population": 2_100_000}


def everything(session):
    """One of each kind of request; what a user would see of each."""
    reply = jupyter_llm.ask("Explain a data frame in one line.", model="qwq-32b", display=False)
    tools = jupyter_llm.ask("How many people live in Paris?", model="qwen3-32b", think=False,
                            tools=[city_population], display=False)
    frame = jupyter_llm.embed(["a cat sat", "a dog ran", "stock prices fell"], cache=False)
    ranked = jupyter_llm.rerank("pets", ["a cat sat", "stock prices fell", "a dog ran"])
    catalog().refresh()
    models = catalog().chat_models()
    return dict(
        content=reply.content, reasoning=reply.reasoning, usage=reply.usage, finish=reply.finish_reason,
        tool_messages=[m["role"] for m in tools.messages], tool_answer=tools.content,
        tool_results=[r.content for r in tools.tool_results],
        vectors=jupyter_llm.vectors(frame).tolist(), ranked=ranked["document"].tolist(), models=models,
    )


def test_replay_gives_what_was_recorded_with_no_gateway(llm, tmp_path):
    path = tmp_path / "run.llm.jsonl"
    with jupyter_llm.cassette(path, mode="record"):
        live = everything(llm)
    unreachable(llm)
    with jupyter_llm.cassette(path, mode="replay"):
        again = everything(llm)
    assert again == live
    assert live["reasoning"] and live["tool_results"] and live["models"]


def test_file_is_jsonl_in_stable_order_once_settled_and_holds_no_key(llm, tmp_path):
    first, second = tmp_path / "a.llm.jsonl", tmp_path / "b.llm.jsonl"
    prompts = ["one", "two", "three"]
    for path, order in ((first, prompts), (second, prompts[::-1])):
        catalog().refresh()  # each recording starts from a new session's point of view
        with jupyter_llm.cassette(path, mode="record"):
            for prompt in order:
                jupyter_llm.ask(f"Say {prompt}.", model="qwen3-32b", think=False, display=False)
        assert cassette.settle(path) == 4  # three chats and the model list
    lines = [first.read_text(encoding="utf-8").splitlines(), second.read_text(encoding="utf-8").splitlines()]
    records = [[json.loads(line) for line in text] for text in lines]
    # Three chats, and the model list the catalogue asks for once, before the first.
    assert records[0][0] == {"jupyter_llm_cassette": 2} and len(lines[0]) == 5
    heads = [[(r.get("kind"), r.get("request")) for r in rs] for rs in records]
    assert heads[0] == heads[1], "the same requests give the same lines in the same order"
    for text in (first.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")):
        assert TEST_KEY not in text and MIDDLE not in text
        assert llm.base_url not in text, "no URL in the cassette"


def test_identical_requests_replay_in_order_even_when_sent_concurrently(llm, emulator, tmp_path):
    # The emulator's reply length comes from a header, which is never part of the key:
    # the same request, three different answers.
    body = {"model": "qwen3-32b", "messages": [{"role": "user", "content": "Count."}]}

    def send(tokens: int) -> str:
        client = Client(llm, timeout=30, max_retries=0,
                        extra_headers={"X-Emulator": f"answer_tokens={tokens}; reasoning=none"})
        chunks = client.chat(body)
        return "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c.get("choices"))

    path = tmp_path / "same.llm.jsonl"
    with jupyter_llm.cassette(path, mode="record"):
        recorded = [send(n) for n in (5, 20, 40)]
    assert len(set(recorded)) == 3
    unreachable(llm)
    with jupyter_llm.cassette(path, mode="replay"):
        assert [send(1) for _ in range(3)] == recorded
        assert send(1) == recorded[-1], "sent once more than recorded (a re-run cell): the last answer again"

    # Many different requests from worker threads (a batch job) all land in the file.
    batch = tmp_path / "batch.llm.jsonl"
    texts = [f"text {i}" for i in range(40)]
    llm.base_url = emulator.url
    def twice():
        with ThreadPoolExecutor(2) as pool:
            return list(pool.map(lambda _: jupyter_llm.embed(texts, batch_size=3, concurrency=8, cache=False),
                                 range(2)))

    with jupyter_llm.cassette(batch, mode="record") as tape:
        live = twice()
    kinds = [json.loads(line).get("kind") for line in batch.read_text(encoding="utf-8").splitlines()]
    assert kinds.count("embeddings") == 2 * 14 and len(tape) == len(kinds) - 1
    unreachable(llm)
    with jupyter_llm.cassette(batch, mode="replay"):
        again = twice()
    for frame in again + live:
        assert (jupyter_llm.vectors(frame) == jupyter_llm.vectors(live[0])).all()


def test_auto_mode_replays_what_it_has_and_records_the_rest(llm, emulator, tmp_path):
    def llm_requests():
        return [r for r in emulator.requests if r["path"].endswith("/chat/completions")]

    path = tmp_path / "auto.llm.jsonl"
    with jupyter_llm.cassette(path):
        first = jupyter_llm.ask("Name a river.", model="qwen3-32b", display=False)
    sent = len(llm_requests())
    with jupyter_llm.cassette(path, mode="auto") as tape:
        again = jupyter_llm.ask("Name a river.", model="qwen3-32b", display=False)
        assert len(llm_requests()) == sent, "replayed, not sent"
        jupyter_llm.ask("Name a mountain.", model="qwen3-32b", display=False)
        assert len(llm_requests()) == sent + 1, "recorded what was missing"
    # The model list the catalogue asked for, and the two chats.
    assert again.content == first.content and len(tape) == 3


def test_fallback_mode_replays_what_it_has_sends_the_rest_and_keeps_the_file_as_shipped(llm, emulator, tmp_path,
                                                                                        heard):
    def llm_requests():
        return [r for r in emulator.requests if r["path"].endswith("/chat/completions")]

    path = tmp_path / "shipped.llm.jsonl"
    with jupyter_llm.cassette(path, mode="record"):
        first = jupyter_llm.ask("Name a river.", model="qwen3-32b", display=False)
    shipped, stamp = path.read_bytes(), path.stat().st_mtime_ns
    sent = len(llm_requests())
    heard.clear()
    with jupyter_llm.cassette(path, mode="fallback"):
        again = jupyter_llm.ask("Name a river.", model="qwen3-32b", display=False)
        assert len(llm_requests()) == sent and again.content == first.content
        changed = jupyter_llm.ask("Name a mountain.", model="qwen3-32b", display=False)
        assert len(llm_requests()) == sent + 1 and changed.content != first.content
        jupyter_llm.ask("Name a mountain.", model="qwen3-32b", display=False)
        assert len(llm_requests()) == sent + 2, "sent again: nothing was recorded to replay"
        # A cell re-run by hand gets the answer it showed, as in replay mode.
        assert jupyter_llm.ask("Name a river.", model="qwen3-32b", display=False).content == first.content
    assert path.read_bytes() == shipped and path.stat().st_mtime_ns == stamp
    assert heard == ["cassette shipped.llm.jsonl (fallback mode)",
                    "shipped.llm.jsonl has no answer for this chat request: sent live, not recorded (fallback mode)."]


def test_a_batch_in_fallback_mode_replays_the_recorded_rows_and_sends_the_rest_unrecorded(llm, emulator, tmp_path,
                                                                                           heard):
    """map()'s rows take the coroutine path: fallback mode there is what it is for one cell."""
    def llm_requests():
        return [r for r in emulator.requests if r["path"].endswith("/chat/completions")]

    path = tmp_path / "shipped.llm.jsonl"
    old = [f"row {i}" for i in range(3)]
    with jupyter_llm.cassette(path, mode="record"):
        first = jupyter_llm.map(old, "Classify: {text}", model="qwen3-32b", think=False, cache=False,
                                progress=False)
    shipped, stamp = path.read_bytes(), path.stat().st_mtime_ns
    sent = len(llm_requests())
    heard.clear()
    with jupyter_llm.cassette(path, mode="fallback"):
        again = jupyter_llm.map([*old, "row 3", "row 4"], "Classify: {text}", model="qwen3-32b", think=False,
                                concurrency=4, cache=False, progress=False)
        assert len(llm_requests()) == sent + 2, "the three recorded rows replayed, the two new ones sent"
        assert again.tolist()[:3] == first.tolist() and again.notna().all()
        jupyter_llm.map(["row 3"], "Classify: {text}", model="qwen3-32b", think=False, cache=False, progress=False)
        assert len(llm_requests()) == sent + 3, "sent again: nothing was recorded to replay"
    assert path.read_bytes() == shipped and path.stat().st_mtime_ns == stamp
    assert [n for n in heard if "fallback" in n] == [
        "cassette shipped.llm.jsonl (fallback mode)",
        "shipped.llm.jsonl has no answer for this chat request: sent live, not recorded (fallback mode)."]


def test_fallback_mode_with_no_cassette_to_read_is_no_cassette(llm, monkeypatch, tmp_path, heard):
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setenv("JUPYTER_LLM_CASSETTE_MODE", "fallback")
    assert active(llm) is None  # no notebook known: a console, a script
    notebook = tmp_path / "new.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("JPY_SESSION_NAME", str(notebook))
    assert active(llm) is None  # a notebook of the student's own, with no cassette beside it
    assert jupyter_llm.ask("hello", model="qwen3-32b", display=False).content
    assert not (tmp_path / "new.llm.jsonl").exists() and not [n for n in heard if "fallback" in n]


def test_replay_at_the_recorded_pace(llm, tmp_path):
    path = tmp_path / "pace.llm.jsonl"
    llm.extra_headers = {"X-Emulator": "answer_tokens=30; reasoning=none; rate=60"}
    with jupyter_llm.cassette(path, mode="record"):
        jupyter_llm.ask("Slowly.", model="qwen3-32b", display=False)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    recorded = next(r for r in records if r["kind"] == "chat")["chunks"]
    span = sum(entry[0] for entry in recorded[1:]) / 1000
    assert span > 0.3 and all(isinstance(entry[0], int) for entry in recorded), "times kept, in whole ms"
    with jupyter_llm.cassette(path, mode="replay") as instant:
        fast = jupyter_llm.ask("Slowly.", model="qwen3-32b", display=False)
    with jupyter_llm.cassette(path, mode="replay", speed=1.0):
        paced = jupyter_llm.ask("Slowly.", model="qwen3-32b", display=False)
    assert instant.speed == 0 and fast.content == paced.content
    assert paced.elapsed >= span * 0.9 > fast.elapsed


def test_errors_are_recorded_and_replayed(llm, tmp_path):
    path = tmp_path / "errors.llm.jsonl"
    with jupyter_llm.cassette(path, mode="record"):
        with pytest.raises(errors.ModelNotFound) as live:
            jupyter_llm.ask("hi", model="no-such-model", display=False)
    unreachable(llm)
    with jupyter_llm.cassette(path, mode="replay"):
        with pytest.raises(errors.ModelNotFound) as again:
            jupyter_llm.ask("hi", model="no-such-model", display=False)
    assert str(again.value) == str(live.value) and again.value.available == live.value.available


def test_a_miss_names_what_differs_from_the_nearest_recording(llm, tmp_path):
    path = tmp_path / "miss.llm.jsonl"
    with jupyter_llm.cassette(path, mode="record"):
        jupyter_llm.ask("Describe the iris data set.", model="qwen3-32b", display=False)
        jupyter_llm.ask("Something else entirely, about weather.", model="qwen3-32b", display=False)
    unreachable(llm)
    with jupyter_llm.cassette(path, mode="replay"):
        with pytest.raises(errors.CassetteMiss) as prompt:
            jupyter_llm.ask("Describe the penguins data set.", model="qwen3-32b", display=False)
        with pytest.raises(errors.CassetteMiss) as model:
            jupyter_llm.ask("Describe the iris data set.", model="qwq-32b", temperature=0.2, display=False)
    text = str(prompt.value)
    assert "miss.llm.jsonl" in text and "prompt" in text and "'Describe the iris" in text
    assert "penguins" in text and "model" not in prompt.value.differences[0]
    assert prompt.value.nearest["messages"][0]["content"] == "Describe the iris data set."
    assert "model: recorded 'qwen3-32b', now 'qwq-32b'" in str(model.value)
    assert "temperature: not set when recorded, now 0.2" in str(model.value)


def test_settings_and_environment_choose_the_cassette(llm, tmp_path, monkeypatch):
    notebook = tmp_path / "study.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert active(llm) is None
    # Jupyter Server's JPY_SESSION_NAME is relative to its root; the kernel runs in the notebook's folder.
    monkeypatch.setenv("JPY_SESSION_NAME", "some/folder/study.ipynb")
    monkeypatch.setenv("JUPYTER_LLM_CASSETTE_MODE", "replay")
    tape = active(llm)
    assert tape.path == tmp_path / "study.llm.jsonl" and tape.mode == "replay"
    monkeypatch.delenv("JPY_SESSION_NAME")
    with pytest.raises(errors.ConfigError, match="%llm_cassette PATH"):
        active(llm)
    monkeypatch.setenv("JUPYTER_LLM_CASSETTE", str(tmp_path / "other.llm.jsonl"))
    assert active(llm).path.name == "other.llm.jsonl"
    llm.cassette_mode = "off"
    try:
        assert active(llm) is None
    finally:
        llm.cassette_mode = None


def test_a_killed_writer_never_leaves_a_broken_file(tmp_path, emulator):
    path = tmp_path / "killed.llm.jsonl"
    code = f"""
import jupyter_llm
jupyter_llm.session.base_url = {emulator.url!r}
jupyter_llm.session.api_key = {TEST_KEY!r}
with jupyter_llm.cassette({str(path)!r}, mode="record"):
    for i in range(100000):
        jupyter_llm.embed([f"text {{i}} {{j}}" for j in range(50)], cache=False, model="Qwen3-Embedding-8B")
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_"))}
    env["JUPYTER_LLM_CONFIG_FILE"] = str(tmp_path / "none.toml")
    for kill_after in (5, 12, 25):
        proc = subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.DEVNULL)
        try:
            while not path.exists() or path.read_text(encoding="utf-8").count("\n") < kill_after:
                assert proc.poll() is None, "the writer died on its own"
                time.sleep(0.01)
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        lines = path.read_text(encoding="utf-8").splitlines()
        assert json.loads(lines[0]) == {"jupyter_llm_cassette": 2} and len(lines) - 1 >= kill_after - 1
        assert {json.loads(line)["kind"] for line in lines[1:]} <= {"embeddings", "models"}
        assert len(cassette.Cassette(path, "replay")) == len(lines) - 1
        path.unlink()


def test_every_shipped_notebook_has_a_clean_cassette():
    """What `make test` replays: each notebook in notebooks/ has its cassette, and none holds a
    key, an auth header or a URL (they were recorded with `jupyter-llm record`)."""
    import re

    folder = Path(__file__).resolve().parents[2] / "notebooks"
    notebooks = sorted(folder.glob("*.ipynb"))
    assert notebooks
    secretish = re.compile(r"sk-[A-Za-z0-9_\-]{6,}|authorization|bearer|api_key|https?://", re.I)
    for notebook in notebooks:
        tape = cassette.default_path(notebook)
        assert tape.is_file(), f"{notebook.name} has no cassette: run jupyter-llm record {notebook}"
        text = tape.read_text(encoding="utf-8")
        records = [json.loads(line) for line in text.splitlines()]
        assert records[0] == {"jupyter_llm_cassette": 2} and len(records) > 1
        assert not secretish.findall(text), f"{tape.name}: {secretish.findall(text)[:3]}"


def test_a_batch_records_its_rows_with_their_pace_and_replays_them_side_by_side(llm, tmp_path):
    """map()'s rows run as coroutines on one loop: recorded with their timing, replayed at their
    pace without one row's waits holding up the others."""
    path = tmp_path / "batch.llm.jsonl"
    llm.extra_headers = {"X-Emulator": "answer_tokens=12; reasoning=none; rate=40"}
    texts = [f"row {i}" for i in range(8)]
    with jupyter_llm.cassette(path, mode="record"):
        live = jupyter_llm.map(texts, "Classify: {text}", model="qwen3-32b", think=False, concurrency=8,
                               cache=False, progress=False)
    records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    chats = [r for r in records if r["kind"] == "chat"]
    span = max(sum(entry[0] for entry in r["chunks"][1:]) for r in chats) / 1000
    assert len(chats) == 8 and span > 0.15, "every row recorded, with its chunks' times"
    unreachable(llm)
    start = time.perf_counter()
    with jupyter_llm.cassette(path, mode="replay", speed=1.0):
        again = jupyter_llm.map(texts, "Classify: {text}", model="qwen3-32b", think=False, concurrency=8,
                                cache=False, progress=False)
    elapsed = time.perf_counter() - start
    assert again.tolist() == live.tolist() and live.notna().all()
    assert span * 0.9 <= elapsed < span * 4, "replayed at the recorded pace, the rows side by side"
