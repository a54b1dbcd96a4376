"""The reasoning/answer split of text a server sent in ``content`` (inline ``<think>``)."""
from __future__ import annotations

import pytest

from jupyter_llm.core.events import ContentDelta, Notice, ReasoningDelta, Revised
from jupyter_llm.core.stream import ReplyBuilder
from jupyter_llm.core.think import CUT_WHILE_THINKING, Splitter


def split(parts, opens_thinking, finish="stop", tools=False):
    """The (reasoning, answer) of ``parts`` streamed in order, as the Reply assembles them."""
    splitter = Splitter(opens_thinking, tools=tools)
    builder = ReplyBuilder("m")
    for event in [e for part in parts for e in splitter.feed(part)] + splitter.finish(finish):
        builder.add(event)
    reply = builder.finish()
    return reply.reasoning, reply.content


@pytest.mark.parametrize("cut", range(1, 40))
def test_inline_think_without_opening_tag_split_anywhere(cut):
    text = "Okay, 2+2 is 4.</think>\n\nThe answer is **4**."
    assert split([text[:cut], text[cut:]], opens_thinking=True) == ("Okay, 2+2 is 4.", "The answer is **4**.")


@pytest.mark.parametrize("cut", range(1, 30))
def test_inline_think_with_both_tags_split_anywhere(cut):
    text = "<think>\nhmm, yes</think>\n\nYes."
    for expect in (True, False):
        assert split([text[:cut], text[cut:]], expect) == ("hmm, yes", "Yes.")


def test_qwen3_empty_think_block_when_thinking_is_off():
    assert split(["<think>\n\n</think>\n\n", "Hi"], False) == ("", "Hi")


def test_plain_answer_is_never_held_back():
    splitter = Splitter(False)
    assert splitter.feed("Hello") == [ContentDelta("Hello")]
    assert split(["a < b and <b>bold</b>"], False) == ("", "a < b and <b>bold</b>")




def test_untagged_text_of_a_model_that_opens_thinking_streams_as_reasoning_then_is_revised():
    splitter = Splitter(opens_thinking=True)
    assert splitter.feed("The answer is 4.") == [ReasoningDelta("The answer is 4.")]
    assert splitter.finish("stop") == [Revised(reasoning="", content="The answer is 4.")]


def test_a_late_closing_tag_revises_text_shown_as_the_answer():
    splitter = Splitter(opens_thinking=False)
    assert splitter.feed("Let me see") == [ContentDelta("Let me see")]
    events = splitter.feed(", yes.</think>\n\nYes.")
    assert events == [Revised(reasoning="Let me see, yes.", content=""), ContentDelta("Yes.")]


def test_cut_at_length_while_thinking_keeps_the_reasoning_and_says_so():
    splitter = Splitter(opens_thinking=True)
    splitter.feed("still thinking about")
    assert splitter.finish("length") == [Notice(CUT_WHILE_THINKING)]
    assert split(["still thinking </thi"], True, finish="length") == ("still thinking </thi", "")


def test_a_reply_with_only_reasoning_that_finished_is_the_answer_in_every_shape():
    assert split(["<think>Paris.</think>"], False) == ("", "Paris.")
    assert split(["Paris.</think>"], True) == ("", "Paris.")
    assert split(["Paris."], True) == ("", "Paris.")
    assert split(["<think>Paris."], False) == ("", "Paris.")


def test_a_tool_call_ends_an_unclosed_think_block_and_is_read_when_tools_were_offered():
    text = '<think>I need the weather.\n\n<tool_call>\n{"name": "w", "arguments": {"city": "Paris"}}\n</tool_call>'
    splitter = Splitter(tools=True)
    events = [e for ch in text for e in splitter.feed(ch)] + splitter.finish("tool_calls")
    calls = [e for e in events if type(e).__name__ == "ToolCallDelta"]
    assert [(c.name, c.arguments) for c in calls] == [("w", '{"city": "Paris"}')]
    assert split([text], False, finish="tool_calls", tools=True) == ("I need the weather.", "")
    assert split([text], False, finish="stop", tools=False)[0] == "I need the weather."
