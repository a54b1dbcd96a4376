"""Where finished rows are kept, and that a cassette's replay does what its recording did."""
from __future__ import annotations

import jupyter_llm
from jupyter_llm.core import usage
from jupyter_llm.data import cache

MODEL = "qwen3-32b"


def _map(rows):
    return jupyter_llm.map(rows, "Echo: {}", model=MODEL, think=False, progress=False)


def _chats(emulator):
    return sum(r["path"].endswith("/chat/completions") for r in emulator.requests)


def test_a_replay_answers_a_rerun_from_the_cache_as_the_recording_did(llm, emulator, tmp_path):
    tape = tmp_path / "t.llm.jsonl"
    _map(["warm", "disk"])  # on disk, from before the cassette: neither recording nor replay may use it
    with jupyter_llm.cassette(tape, mode="record"):
        before = _chats(emulator)
        first = _map(["warm", "disk", "new"])
        assert _chats(emulator) - before == 3, "a recording asks the gateway, not an earlier kernel's cache"
        again = _map(["warm", "disk", "new"])
        recorded_note = usage.last_batch_note()
    assert "3 of them from the cache" in recorded_note and again.equals(first)
    before = _chats(emulator)
    with jupyter_llm.cassette(tape, mode="replay"):
        replayed = [_map(["warm", "disk", "new"]), _map(["warm", "disk", "new"])]
        assert usage.last_batch_note() == recorded_note
    assert _chats(emulator) == before, "a replay sends nothing"
    assert all(r.equals(first) for r in replayed)
    sources = jupyter_llm.log(6, kind="chat").source.tolist()
    assert sources.count("replayed") == 3, sources


def test_memory_and_off_keep_rows_where_they_say(llm):
    llm.cache = "memory"
    _map(["kept in memory"])
    assert cache.stats()["memory_rows"] == 1 and cache.stats()["disk_rows"] == 0
    llm.cache = "off"
    _map(["kept nowhere"])
    assert cache.stats()["memory_rows"] == 1 and cache.stats()["disk_rows"] == 0


def test_rows_that_finish_together_are_kept_in_one_write_and_read_back_by_a_rerun(llm, emulator):
    rows = [f"review {i}" for i in range(40)]
    first = _map(rows)
    assert cache.stats()["disk_rows"] == 40
    cache.put_rows([("a key", {"label": "pos"}), ("another", "neg")])
    assert cache.get_rows(["a key", "another", "missing"]) == {"a key": {"label": "pos"}, "another": "neg"}
    before = _chats(emulator)
    again = _map(rows)
    assert again.equals(first) and _chats(emulator) == before, "every row came back from the disk"


def test_a_failed_write_of_many_rows_keeps_none_of_them_half_written(llm):
    class Unwritable:
        def __str__(self):
            raise RuntimeError("cannot be stored")

    try:
        cache.put_rows([("first", "fine"), ("second", Unwritable())])
    except RuntimeError:
        pass
    assert cache.get_rows(["first", "second"]) == {}
    cache.put_rows([("first", "fine")])
    assert cache.get_rows(["first"]) == {"first": "fine"}, "the connection is usable after the failure"
