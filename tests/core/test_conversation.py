"""Conversation: turns sent again with each question, reasoning left out, JSON save/load, context trimming."""
from __future__ import annotations

import json

import pytest

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.conversation import Conversation, fit


def chat_requests(emulator):
    return [r for r in emulator.requests if r["path"].endswith("/chat/completions")]


def test_each_question_carries_the_earlier_turns(llm, emulator):
    chat = jupyter_llm.Conversation(model="qwen72b-awq", system="Answer in one sentence.")
    chat.ask("What is a p-value?", display=False)
    reply = chat.ask("And a confidence interval?", display=False)
    sent = chat_requests(emulator)[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[0]["content"] == "Answer in one sentence."
    assert sent[2]["content"] == chat.messages[1]["content"] != ""
    assert "Earlier in this conversation: 1 question, the last: *What is a p-value?*" in reply.content
    assert chat.turns == 2 and [m["role"] for m in chat.messages] == ["user", "assistant"] * 2
    assert chat.messages[-1] == {"role": "assistant", "content": reply.content}


def test_the_chat_panel_constructor_and_reset(llm, emulator):
    transcript = [{"role": "system", "content": "Be terse."}, {"role": "user", "content": "Hi"},
                  {"role": "assistant", "content": "Hello."}]
    chat = Conversation(messages=transcript, name="panel", model="qwen72b-awq")
    assert chat.system == "Be terse." and chat.messages == transcript[1:] and chat.name == "panel"
    chat.ask("Next question.", display=False)
    assert [m["role"] for m in chat_requests(emulator)[-1]["body"]["messages"]] == [
        "system", "user", "assistant", "user"]
    chat.reset()
    assert chat.messages == [] and chat.system == "Be terse." and chat.model == "qwen72b-awq"
    with pytest.raises(errors.ConfigError, match="messages\\[0\\] is not a chat message"):
        Conversation(messages=[{"content": "no role"}])


def test_reasoning_is_not_kept_nor_sent_back(llm, emulator):
    chat = Conversation(model="qwen3-32b")
    first = chat.ask("Why is the sky blue?", think=True, display=False)
    assert first.reasoning
    chat.ask("And at sunset?", think=True, display=False)
    assistant = [m for m in chat_requests(emulator)[-1]["body"]["messages"] if m["role"] == "assistant"]
    assert assistant == [{"role": "assistant", "content": first.content}]
    assert first.reasoning.strip() not in json.dumps(chat.messages)


def test_reasoning_in_given_messages_is_not_sent_either(llm, emulator):
    given = [{"role": "user", "content": "Hi"},
             {"role": "assistant", "content": "Hello.", "reasoning_content": "They greet me."}]
    chat = Conversation(messages=given, model="qwen72b-awq")
    chat.ask("Next.", display=False)
    assert chat_requests(emulator)[-1]["body"]["messages"][1] == {"role": "assistant", "content": "Hello."}
    assert chat.messages[1]["reasoning_content"] == "They greet me.", "the caller's transcript is left as given"


def test_a_failed_request_adds_no_turn_and_keeps_the_partial_reply(llm, emulator):
    chat = Conversation(model="qwen72b-awq")
    chat.ask("First.", display=False)
    llm.extra_headers = {"X-Emulator": "fault=cut; cut_after=3"}
    with pytest.raises(errors.IncompleteReply) as caught:
        chat.ask("Second.", display=False)
    assert caught.value.reply.content, "the partial text is kept on the error"
    assert chat.turns == 1


def test_named_conversations_are_shared_by_name():
    one = Conversation.named("a-test-name")
    assert Conversation.named("a-test-name") is one and "a-test-name" in Conversation.names()
    assert Conversation.named() is Conversation.named("default")


def test_save_and_load_round_trip(tmp_path, llm):
    chat = Conversation([{"role": "user", "content": "数据 <b>x</b>"}, {"role": "assistant", "content": "ok"}],
                        name="n", model="qwen3-32b", system="sys")
    path = chat.save(tmp_path / "chat.json")
    again = Conversation.load(path)
    assert (again.messages, again.name, again.model, again.system) == (chat.messages, "n", "qwen3-32b", "sys")
    # A plain list of messages (another tool's export) loads too.
    (tmp_path / "list.json").write_text(json.dumps(chat.messages), encoding="utf-8")
    assert Conversation.load(tmp_path / "list.json").messages == chat.messages


def test_a_failed_save_leaves_the_old_file_whole(tmp_path):
    path = tmp_path / "chat.json"
    Conversation([{"role": "user", "content": "kept"}]).save(path)
    before = path.read_bytes()
    broken = Conversation([{"role": "user", "content": object()}])
    with pytest.raises(TypeError):
        broken.save(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["chat.json"], "no temporary file left behind"


def test_load_errors_say_what_is_wrong(tmp_path):
    with pytest.raises(errors.ConfigError, match="No conversation file"):
        Conversation.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(errors.ConfigError, match="not a conversation saved as JSON"):
        Conversation.load(tmp_path / "bad.json")
    (tmp_path / "other.json").write_text('{"rows": []}', encoding="utf-8")
    with pytest.raises(errors.ConfigError, match="no 'messages' list"):
        Conversation.load(tmp_path / "other.json")


def test_oldest_turns_are_left_out_with_a_note_when_the_context_is_outgrown(llm, emulator, capsys):
    llm.model_overrides = {"qwen72b-awq": {"context": 3_000}}
    chat = Conversation(model="qwen72b-awq")
    for number in range(6):
        chat.ask(f"Question {number}: " + "data " * 400, display=False)
    err = capsys.readouterr().err
    assert "oldest turn(s) were left out of this request" in err
    sent = chat_requests(emulator)[-1]["body"]["messages"]
    assert sent[-1]["content"].startswith("Question 5:")
    assert sent[0]["role"] == "user" and not sent[0]["content"].startswith("Question 0:")
    assert chat.turns == 6, "every turn stays in .messages"


def test_fit_never_splits_a_question_from_its_answer():
    turns = []
    for number in range(4):
        turns += [{"role": "user", "content": "q" * 400}, {"role": "assistant", "content": "a" * 400}]
    kept, dropped = fit([], turns, {"role": "user", "content": "now"}, context=700)
    assert dropped == 2 and kept == turns[4:]
    assert fit([], turns, {"role": "user", "content": "now"}, context=100_000) == (turns, 0)


def test_transcript_shows_model_text_safely():
    chat = Conversation([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "<img src=x onerror=alert(1)>"}])
    bundle = chat._repr_mimebundle_()
    assert "<img" not in bundle["text/markdown"] and "**assistant**" in bundle["text/markdown"]
    assert "assistant: <img src=x onerror=alert(1)>" in bundle["text/plain"]


@pytest.mark.parametrize("name, header", [(None, "<strong>Conversation</strong> · 1 turn · qwen3-32b"),
                                          ("stats", "<strong>Conversation</strong> 'stats' · 1 turn · qwen3-32b")])
def test_the_header_renders_bold_with_or_without_a_name(name, header):
    from markdown_it import MarkdownIt

    chat = Conversation([{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}],
                        name=name, model="qwen3-32b")
    html = MarkdownIt("commonmark").render(chat._repr_mimebundle_()["text/markdown"])
    assert f"<p>{header}</p>" in html and "**" not in html


def test_tool_calls_and_results_become_part_of_the_conversation(llm, emulator):
    @jupyter_llm.tool
    def get_current_weather(location: str) -> dict:
        """Get the current weather in a given location."""
        return {"location": location, "temperature": 21}

    chat = Conversation(model="qwen3-32b")
    reply = chat.ask("What is the weather like in Paris today?", think=False, tools=[get_current_weather],
                     display=False)
    assert [m["role"] for m in chat.messages] == ["user", "assistant", "tool", "assistant"]
    assert chat.messages[-1]["content"] == reply.content and "get_current_weather" in reply.content
    assert all("reasoning_content" not in m and "reasoning" not in m for m in chat.messages)
    chat.ask("Thanks. And tomorrow?", think=False, display=False)
    sent = chat_requests(emulator)[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["user", "assistant", "tool", "assistant", "user"]


def test_calls_left_unanswered_do_not_break_the_next_turn(llm, emulator):
    @jupyter_llm.tool
    def get_current_weather(location: str) -> dict:
        """Get the current weather in a given location."""
        return {"location": location, "temperature": 21}

    chat = Conversation(model="qwen3-32b")
    chat.ask("What is the weather like in Paris today?", think=False, tools=[get_current_weather],
             max_tool_rounds=0, display=False)
    assert [m["role"] for m in chat.messages] == ["user", "assistant"]
    assert "tool_calls" not in chat.messages[-1]
    chat.ask("Never mind. Say hi.", think=False, display=False)
    assert chat.turns == 2
