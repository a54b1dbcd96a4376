"""The call log's file and queries: owner-only, filters, full-text search that reads words as words."""
from __future__ import annotations

import json
import stat
from datetime import timedelta

import jupyter_llm
from jupyter_llm.core import call_log, store


def test_the_log_is_created_readable_by_its_owner_only(llm):
    jupyter_llm.ask("hi", model="qwen72b-awq", display=False)
    call_log.flush()
    for path in store.data_dir().glob("log.db*"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert stat.S_IMODE(store.data_dir().stat().st_mode) == 0o700


def test_filters_by_model_kind_and_time(llm):
    jupyter_llm.ask("Name a river.", model="qwen72b-awq", display=False)
    jupyter_llm.ask("Name a lake.", model="qwen72b-int8", display=False)
    assert list(jupyter_llm.log(None, model="qwen72b-int8").model) == ["qwen72b-int8"]
    assert len(jupyter_llm.log(None, since=timedelta(minutes=5))) == 2
    assert len(jupyter_llm.log(None, since="2999-01-01")) == 0
    assert list(jupyter_llm.log(None).kind.unique()) == ["chat"]


def test_search_reads_what_a_user_types_as_words_not_as_a_query(llm):
    jupyter_llm.ask('What does "AND" mean in SQL? (NOT a trick)', model="qwen72b-awq", display=False)
    assert len(jupyter_llm.log(None, search='"AND" (NOT')) == 1
    assert len(jupyter_llm.log(None, search="OR NEAR")) == 0


def test_a_tool_loop_logs_each_round_and_the_reply_links_to_the_last(llm):
    @jupyter_llm.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    reply = jupyter_llm.ask("What is 2 + 3?", model="qwen3-32b", think=False, tools=[add], display=False)
    rows = jupyter_llm.log(None)
    assert len(rows) == 2 and rows.index[0] == reply.log_id
    assert '"name": "add"' in rows.tool_calls.iloc[1] and rows.tools.iloc[0] == '["add"]'


def test_each_round_logs_the_messages_it_sent_not_those_added_after(llm):
    @jupyter_llm.tool
    def add(a: int, b: int) -> int:
        """Add two numbers."""
        return a + b

    jupyter_llm.ask("What is 2 + 3?", model="qwen3-32b", think=False, tools=[add], display=False)
    second, first = (json.loads(m) for m in jupyter_llm.log(None).messages)
    assert [m["role"] for m in first] == ["user"]
    assert [m["role"] for m in second] == ["user", "assistant", "tool"]


def test_a_call_is_logged_where_the_data_dir_was_when_it_was_made(llm, monkeypatch, tmp_path):
    jupyter_llm.ask("Name a river.", model="qwen72b-awq", display=False)
    monkeypatch.setenv("JUPYTER_LLM_DATA_DIR", str(tmp_path / "elsewhere"))
    assert len(jupyter_llm.log(None)) == 0
    monkeypatch.setenv("JUPYTER_LLM_DATA_DIR", str(tmp_path / "data"))
    assert list(jupyter_llm.log(None).model) == ["qwen72b-awq"]


def test_a_log_that_cannot_be_written_is_one_note_and_later_calls_are_logged(llm, monkeypatch, tmp_path, capsys):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    monkeypatch.setenv("JUPYTER_LLM_DATA_DIR", str(blocked))
    reply = jupyter_llm.ask("Name a river.", model="qwen72b-awq", display=False)
    jupyter_llm.ask("Name a lake.", model="qwen72b-awq", display=False)
    call_log.flush()
    assert reply.content
    assert capsys.readouterr().err.count("could not write the call log") == 1
    monkeypatch.setenv("JUPYTER_LLM_DATA_DIR", str(tmp_path / "data"))
    jupyter_llm.ask("Name a sea.", model="qwen72b-awq", display=False)
    assert "Name a sea." in jupyter_llm.log(None).messages.iloc[0]


def test_a_reply_of_megabytes_is_logged_by_its_first_million_characters(llm):
    jupyter_llm.session.extra_headers = {"X-Emulator": "answer_tokens=400000; shape=json-records; chunk_tokens=256"}
    reply = jupyter_llm.ask("Give me the sales data as JSON.", model="qwen72b-awq", display=False)
    row = jupyter_llm.log(None).iloc[0]
    assert len(reply.content) > 1.5 * call_log.TEXT_KEPT
    assert row.content.startswith(reply.content[:call_log.TEXT_KEPT])
    assert row.content.endswith(f"({len(reply.content) - call_log.TEXT_KEPT:,} more characters, not logged)")
