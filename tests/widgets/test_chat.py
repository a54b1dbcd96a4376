"""The chat panel in a real kernel: replies stream as tasks, the kernel stays free, Stop stops."""
from __future__ import annotations

import json

import pytest

from support import kernel_value as value, TEST_KEY

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def k(kernel):
    kernel.run("import json, jupyter_llm\nfrom jupyter_llm import ChatPanel")
    return kernel


def test_a_conversation_keeps_openai_messages_and_each_reply_shows_its_usage(k, emulator):
    created = k.run("chat = ChatPanel(model='qwen3-32b', system='Be brief.')\nchat")
    data = [m["content"]["data"] for m in created.messages if m["msg_type"] == "execute_result"][0]
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("Chat panel: qwen3-32b (thinking (switchable), tools, 32k context)")
    assert k.run("await chat.send('Name three rivers.')").error is None
    assert k.run("chat.think.value = False\nawait chat.send('And three lakes?')").error is None
    messages = value(k, "chat.messages")
    assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[0]["content"] == "Name three rivers." and messages[3]["content"]
    footer = value(k, "chat.transcript.children[-1].children[-1].value")
    assert "qwen3-32b" in footer and "tokens" in footer and "first token" in footer
    # Regenerate replaces the last reply; the system prompt and the whole history are sent.
    assert k.run("await chat.regenerate()").error is None
    assert len(value(k, "chat.messages")) == 4 and value(k, "len(chat.transcript.children)") == 4
    body = emulator.requests[-1]["body"]
    assert [m["role"] for m in body["messages"]] == ["system", "user", "assistant", "user"]
    assert body["messages"][0]["content"] == "Be brief."
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    k.run("chat.clear()")
    assert value(k, "chat.messages") == [] and value(k, "len(chat.transcript.children)") == 0


def test_the_kernel_answers_while_a_reply_streams_and_stop_keeps_the_partial_text(k, emulator):
    k.run("jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=40; answer_tokens=3000'}\n"
          "chat = ChatPanel(model='qwen72b-awq')\nchat.prompt.value = 'Write an essay.'\n"
          "chat.send_button.click()")
    # The click returned at once: other cells run while the reply streams.
    assert value(k, "chat.busy") is True
    k.run("import asyncio\nwhile len(chat.transcript.children[-1].children) < 2: await asyncio.sleep(0.05)")
    assert value(k, "chat.busy") is True and value(k, "chat.stop_button.disabled") is False
    k.run("chat.stop_button.click()\nawait chat._task")
    assert value(k, "chat.busy") is False
    messages = value(k, "chat.messages")
    assert messages[-1]["role"] == "assistant" and 0 < len(messages[-1]["content"].split()) < 3000
    assert "stopped" in value(k, "chat.transcript.children[-1].children[-1].value")


def test_errors_show_inside_the_panel_not_as_a_traceback(k):
    result = k.run("chat = ChatPanel(model='no-such-model')\nawait chat.send('hi')")
    assert result.error is None
    footer = value(k, "chat.transcript.children[-1].children[-1].value")
    assert "ModelNotFound" in footer and "Models served" in footer and TEST_KEY not in footer
    assert "INCOMPLETE" not in footer  # it never started
    assert value(k, "chat.busy") is False


def test_export_writes_the_transcript_as_a_new_notebook(k, tmp_path):
    path = tmp_path / "chat.ipynb"
    k.run(f"chat = ChatPanel(model='qwen72b-awq')\nawait chat.send('Hello there')\nchat.to_notebook({str(path)!r})")
    cells = json.loads(path.read_text())["cells"]
    assert [c["cell_type"] for c in cells] == ["markdown"] * 3
    assert "Hello there" in cells[1]["source"] and cells[2]["source"].startswith("**qwen72b-awq:**")
    assert cells[2]["source"].split("\n\n", 1)[1] == value(k, "chat.messages[-1]['content']")


def test_export_after_clear_writes_nothing_and_says_so(k, tmp_path):
    k.run(f"import os\nos.chdir({str(tmp_path)!r})\nchat = ChatPanel(model='qwen72b-awq')\n"
          "await chat.send('Hello there')\nchat.clear()\nchat.export_button.click()")
    assert "Nothing to export" in value(k, "chat.status.value")
    assert list(tmp_path.glob("*.ipynb")) == []
    k.run("await chat.send('Hello again')\nchat.export_button.click()")
    assert "Wrote chat-" in value(k, "chat.status.value") and len(list(tmp_path.glob("chat-*.ipynb"))) == 1


def test_export_hands_the_transcript_over_as_a_conversation(k, emulator):
    result = k.run("chat = ChatPanel(model='qwen72b-awq', system='Be brief.')\nawait chat.send('Hello there')\n"
                   "conv = chat.to_conversation(name='hello')")
    assert result.error is None, result.error
    assert value(k, "conv.messages == chat.messages") is True
    assert value(k, "(conv.name, conv.model, conv.system)") == ["hello", "qwen72b-awq", "Be brief."]
    # The conversation goes on in code from where the panel left it.
    assert k.run("conv.ask('And then?', display=False)").error is None
    sent = emulator.requests[-1]["body"]["messages"]
    assert [m["role"] for m in sent] == ["system", "user", "assistant", "user"]
    assert sent[1]["content"] == "Hello there" and sent[-1]["content"] == "And then?"


def test_an_attached_image_goes_to_a_vision_model_with_the_text(k, emulator):
    k.run("import struct, zlib\n"
          "ihdr = b'IHDR' + struct.pack('>IIBBBBB', 2, 3, 8, 2, 0, 0, 0)\n"
          "png = b'\\x89PNG\\r\\n\\x1a\\n' + struct.pack('>I', 13) + ihdr + struct.pack('>I', zlib.crc32(ihdr))\n"
          "chat = ChatPanel(model='qwen25-vl-7b')\n"
          "shown = chat.attach.layout.display\n"
          "chat.attach.value = ({'name': 'dot.png', 'type': 'image/png', 'size': len(png), "
          "'content': memoryview(png), 'last_modified': 0},)")
    assert value(k, "shown") is None and value(k, "ChatPanel(model='qwen72b-awq').attach.layout.display") == "none"
    assert k.run("await chat.send('What is in this picture?')").error is None
    parts = emulator.requests[-1]["body"]["messages"][-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "I see 1 image: 2×3 PNG" in value(k, "chat.messages[-1]['content']")
    assert "[image: dot.png]" in value(k, "chat.transcript.children[0].value")
    assert value(k, "chat.attach.value") == []


def test_tool_calls_show_as_steps_with_status_and_duration(k):
    k.run("@jupyter_llm.tool\ndef get_current_weather(location: str) -> dict:\n"
          "    \"\"\"Get the current weather in a given location.\"\"\"\n"
          "    return {'location': location, 'temperature': 21}\n"
          "chat = ChatPanel(model='qwen3-32b', tools=[get_current_weather])")
    assert k.run("await chat.send('What is the weather like in Paris today?')").error is None
    footer = value(k, "chat.transcript.children[-1].children[-1].value")
    assert "⚙ get_current_weather · done ·" in footer and " s</summary>" in footer
    roles = [m["role"] for m in value(k, "chat.messages")]
    assert roles == ["user", "assistant", "tool", "assistant"]


def test_a_long_reply_reaches_the_browser_in_coalesced_updates(k):
    k.run("jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=3000; answer_tokens=3000'}\n"
          "chat = ChatPanel(model='qwen72b-awq')")
    result = k.run("reply = await chat.send('Write a long report.')")
    assert result.error is None
    updates = [m for m in result.messages if m["msg_type"] in ("comm_open", "comm_msg")]
    sent = sum(len(json.dumps(m["content"])) for m in updates)
    answer = value(k, "[reply.usage.completion_tokens, len(reply.content)]")
    # A few messages a tenth of a second, not one per token; and each carries the block being
    # written, not the whole reply again (linear, not quadratic, in the reply's length).
    assert answer[0] == 3000 and len(updates) < 3000 / 10
    assert sent < 8 * answer[1]
