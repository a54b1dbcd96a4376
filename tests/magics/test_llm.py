"""The magics in a real kernel, talking to the emulator over HTTP, as a notebook user sees them."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from support import TEST_KEY

pytestmark = pytest.mark.timeout(180)


def outputs_of(result, kind="display_data"):
    return [m["content"] for m in result.messages if m["msg_type"] == kind]


def final_markdown(result) -> str:
    texts = [o["data"]["text/markdown"] for o in outputs_of(result) if "text/markdown" in o["data"]]
    assert texts, "no Markdown output"
    return texts[-1]


@pytest.fixture
def k(kernel):
    kernel.run("%load_ext jupyter_llm")
    return kernel


def value(kernel, expr):
    result = kernel.run(f"print(repr({expr}))")
    return "".join(m["content"]["text"] for m in result.messages if m["msg_type"] == "stream").strip()


def test_load_ext_imports_nothing_heavy(kernel_env):
    code = (
        "import sys\nfrom IPython.testing.globalipapp import start_ipython\n"
        "ip = start_ipython()\nbefore = set(sys.modules)\nip.run_line_magic('load_ext', 'jupyter_llm')\n"
        "print(sorted(m for m in set(sys.modules) - before if m.split('.')[0] in "
        "('openai', 'pandas', 'ipywidgets', 'numpy', 'httpx', 'httpx2', 'markdown_it')))"
    )
    out = subprocess.run([sys.executable, "-c", code], env=kernel_env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "[]"


def test_llm_cell_streams_markdown_with_reasoning_and_keeps_the_reply(k, emulator):
    k.run("import pandas as pd\ndf = pd.DataFrame({'a': range(5), 'b': list('abcde')})")
    emulator.reset()
    result = k.run("%%llm -m qwq-32b -o answer\nExplain what {df.shape} means for this data frame.")
    assert result.error is None, result.error
    prompt = emulator.requests[-1]["body"]["messages"][-1]["content"]
    assert prompt == "Explain what (5, 2) means for this data frame."
    k.run("import json")
    reply = json.loads(eval(value(k, "json.dumps([_llm.content, _llm.reasoning, answer is _llm, _llm.model])")))
    content, reasoning, same, model = reply
    assert same and model == "qwq-32b" and content and reasoning
    assert final_markdown(result).strip() == content.strip()
    html = [o["data"].get("text/html", "") for o in outputs_of(result)]
    assert any("<details" in h and "Reasoning" in h for h in html), "reasoning panel in the saved output"
    assert any(m["msg_type"] == "comm_open" for m in result.messages), "live widget view while streaming"
    plain = [o["data"].get("text/plain", "") for o in outputs_of(result)]
    assert any("qwq-32b" in p and "tokens" in p for p in plain), "usage line"


def test_no_think_switches_qwen3_off(k, emulator):
    emulator.reset()
    result = k.run("%%llm -m qwen3-32b --no-think\nSay hi.")
    assert result.error is None
    assert emulator.requests[-1]["body"]["chat_template_kwargs"] == {"enable_thinking": False}
    assert value(k, "_llm.reasoning") == "''"


def test_quoted_options_are_sent_without_their_quotes(k, emulator):
    emulator.reset()
    assert k.run("%%llm -m 'qwen72b-awq' -s 'Be brief, and kind.'\nSay hi.").error is None
    body = emulator.requests[-1]["body"]
    assert body["model"] == "qwen72b-awq" and body["messages"][0] == {"role": "system", "content": "Be brief, and kind."}
    assert k.run('%%llm -m qwen72b-awq -s "It\'s fine."\nSay hi.').error is None
    assert emulator.requests[-1]["body"]["messages"][0]["content"] == "It's fine."


def test_braces_in_code_are_left_alone(k, emulator):
    emulator.reset()
    cell = 'Fix this: d = {"a": 1}; s = {x for x in d}; print(f"{d!r}")'
    k.run("%%llm -m qwen72b-awq\n" + cell)
    assert emulator.requests[-1]["body"]["messages"][-1]["content"] == cell


def test_missing_variable_is_left_with_a_note(k, emulator):
    emulator.reset()
    result = k.run("%%llm -m qwen72b-awq\nTell me about {nothing_here}.")
    assert result.error is None
    assert emulator.requests[-1]["body"]["messages"][-1]["content"] == "Tell me about {nothing_here}."
    assert "{nothing_here}" in result.notes()


def test_help_lists_the_options(k):
    result = k.run("%%llm?\n", timeout=30)
    text = result.text() + json.dumps(result.reply)
    for option in ("--model", "--no-think", "--system", "--output", "--max-tokens"):
        assert option in text


def usage_error(result) -> str:
    """IPython shows a UsageError as one stderr line, without a traceback, and fails the cell."""
    assert result.reply["status"] == "error" and result.error is None
    return "".join(m["content"]["text"] for m in result.messages if m["msg_type"] == "stream")


def test_bad_flag_is_a_usage_message_not_a_traceback(k):
    text = usage_error(k.run("%%llm --nope\nhi"))
    assert text.startswith("UsageError: unrecognized arguments: --nope") and "%llm?" in text


def test_empty_cell_is_a_usage_message(k):
    assert "cell is empty" in usage_error(k.run("%%llm -m qwen72b-awq\n   \n"))


def test_unknown_model_is_a_short_error_listing_models(k):
    result = k.run("%%llm -m qwen3-23b\nhi")
    error = result.error
    assert error["ename"] == "ModelNotFound" and len(error["traceback"]) == 1
    assert "qwen3-32b" in error["traceback"][0]


def test_incomplete_stream_shows_partial_text_and_keeps_it(k):
    k.run("import jupyter_llm; jupyter_llm.session.extra_headers = {'X-Emulator': 'fault=cut; cut_after=12'}")
    result = k.run("%%llm -m qwen72b-awq\nWrite something long.")
    assert result.error["ename"] == "IncompleteReply"
    partial = eval(value(k, "_llm.content"))
    assert partial and final_markdown(result).strip() == partial.strip()
    assert "INCOMPLETE" in result.text()


def test_interrupt_keeps_partial_text_and_is_not_swallowed(k):
    import threading
    import time

    k.run("import jupyter_llm; jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=40; answer_tokens=2000'}")
    seen = threading.Event()

    def watch(msg):
        if msg["msg_type"] in ("comm_msg", "comm_open", "display_data"):
            seen.set()

    timer = threading.Thread(target=lambda: (seen.wait(20), time.sleep(1.0), k.interrupt()))
    timer.start()
    started = time.monotonic()
    result = k.run("%%llm -m qwen72b-awq\nWrite an essay.", on_message=watch)
    timer.join()
    assert time.monotonic() - started < 20
    assert result.error["ename"] == "KeyboardInterrupt"
    partial = eval(value(k, "_llm.content"))
    assert 0 < len(partial.split()) < 2000 and not eval(value(k, "_llm.complete"))
    assert final_markdown(result).strip() == partial.strip()


def test_config_shows_settings_without_the_key_and_refuses_typed_keys(k):
    shown = k.run("%llm_config")
    assert "base_url" in shown.text() and "(set)" in shown.text()
    typed = k.run(f"%llm_config api_key={TEST_KEY}")
    assert "hidden prompt" in usage_error(typed) and TEST_KEY not in typed.text()
    k.run("%llm_config model=qwen3-32b think=false temperature=0.3\nimport jupyter_llm")
    settings = value(k, "(jupyter_llm.session.model, jupyter_llm.session.think, jupyter_llm.session.temperature)")
    assert eval(settings) == ("qwen3-32b", False, 0.3)
    result = k.run("%%llm\nhello")
    assert result.error is None and eval(value(k, "_llm.model")) == "qwen3-32b"


def test_models_table_includes_odd_names(k):
    result = k.run("%llm_models")
    text = result.text()
    assert "qwen32b-awq(试用)" in text and "thinking_switch" in text
    result = k.run("%%llm -m qwen32b-awq(试用)\nhi")
    assert result.error is None and eval(value(k, "_llm.model")) == "qwen32b-awq(试用)"


def test_the_key_never_reaches_the_front_end(k):
    k.run("%%llm -m qwq-32b\nhello")
    k.run("%llm_config")
    k.run("import jupyter_llm; jupyter_llm.session")
    for fault in ("401", "500", "cut"):
        k.run(f"jupyter_llm.session.extra_headers = {{'X-Emulator': 'fault={fault}'}}")
        result = k.run("%%llm -m qwen72b-awq\nhi")
        assert TEST_KEY not in result.text() and "JLLM-0123456789" not in result.text()


def test_a_json_reply_of_megabytes_is_parsed_whole_and_shown_by_its_head(k):
    k.run("import json, jupyter_llm\njupyter_llm.session.extra_headers = "
          "{'X-Emulator': 'answer_tokens=500000; shape=json-records; chunk_tokens=256'}")
    result = k.run("%%llm -m qwen72b-awq -f json -o data\nGive me the sales data as JSON.")
    assert result.error is None, result.error
    facts = json.loads(eval(value(k, "json.dumps([len(_llm.content.encode()), len(data), data[0]['id'], "
                                      "data[-1]['id'], _llm.parsed is data])")))
    reply_bytes, records, first, last, same = facts
    assert reply_bytes > 1_900_000 and first == 1 and last == records and same, "every record, parsed once"
    front_end = {"display_data", "update_display_data", "comm_open", "comm_msg", "comm_close"}
    sent = sum(len(json.dumps(m["content"]).encode()) + sum(len(b) for b in m.get("buffers") or ())
               for m in result.messages if m["msg_type"] in front_end)
    assert sent < 250_000, f"{sent:,} bytes sent for a reply of {reply_bytes:,}"
    shown = [o["data"] for o in outputs_of(result) if "text/markdown" in o["data"]]
    assert not any("application/json" in o["data"] for o in outputs_of(result))
    assert f"a list of {records:,} items" in shown[0]["text/markdown"]
