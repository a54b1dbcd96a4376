"""%llm_chat and %%llm_compare in a real kernel: thin adapters over the panels."""
from __future__ import annotations

import json

import pytest

pytestmark = pytest.mark.timeout(180)
MODELS = ["qwen3-32b", "qwq-32b", "qwen72b-awq"]


def usage_error(result) -> str:
    """IPython shows a UsageError as one stderr line, without a traceback, and fails the cell."""
    assert result.reply["status"] == "error" and result.error is None
    return "".join(m["content"]["text"] for m in result.messages if m["msg_type"] == "stream")


def test_llm_chat_opens_a_chat_panel_on_the_model_and_keeps_it(kernel):
    kernel.run("%load_ext jupyter_llm")
    shown = kernel.run("%llm_chat -m qwen72b-awq -s Brief -o chat")
    data = [m["content"]["data"] for m in shown.messages if m["msg_type"] == "display_data"][0]
    assert "application/vnd.jupyter.widget-view+json" in data
    assert data["text/plain"].startswith("Chat panel: qwen72b-awq")
    done = kernel.run("import json\nawait chat.send('hi')\nprint(json.dumps([chat.system.value, len(chat.messages)]))")
    assert json.loads(done.messages[-2]["content"]["text"]) == ["Brief", 2]
    assert "-o 1x" in usage_error(kernel.run("%llm_chat -o 1x"))


def test_llm_compare_refuses_an_empty_cell_and_missing_models(kernel):
    kernel.run("%load_ext jupyter_llm")
    assert "cell is empty" in usage_error(kernel.run("%%llm_compare -m qwen3-32b\n  "))
    assert "-m/--models" in usage_error(kernel.run("%%llm_compare\nhello"))
    assert "Name the models" in usage_error(kernel.run("%%llm_compare -m ,\nhello"))


def test_llm_compare_in_a_kernel_runs_as_tasks_and_leaves_the_table_in_llm_compare(kernel, emulator):
    kernel.run("%load_ext jupyter_llm\nimport json\nimport jupyter_llm\n"
               "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=100; answer_tokens=200'}")
    topic = "tides"
    kernel.run(f"topic = {topic!r}")
    emulator.reset()
    shown = kernel.run(f"%%llm_compare -m {','.join(MODELS)} --no-think -o cmp\nExplain {{topic}} briefly.")
    assert shown.error is None
    data = [m["content"]["data"] for m in shown.messages if m["msg_type"] == "display_data"][0]
    assert "application/vnd.jupyter.widget-view+json" in data and "Compare panel: qwen3-32b, qwq-32b" in data["text/plain"]
    # The cell returned while the models were still answering.
    busy = kernel.run("print(json.dumps('_llm_compare' in globals()))")
    assert "false" in busy.text()
    done = kernel.run("frame = await cmp\nprint(json.dumps([list(_llm_compare.index), bool(frame is _llm_compare), "
                      "int(_llm_compare['tokens'].min())]))")
    out = json.loads("".join(m["content"]["text"] for m in done.messages if m["msg_type"] == "stream"))
    assert out[0] == MODELS and out[1] is True and out[2] > 0
    prompts = {r["body"]["messages"][-1]["content"] for r in emulator.requests if r["path"].endswith("/chat/completions")}
    assert prompts == {"Explain tides briefly."}
