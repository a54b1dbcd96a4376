"""Conversations, notebook values, formats, images and %llm_explain in a real kernel against the emulator."""
from __future__ import annotations


import pytest

from support import kernel_value as value

pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def k(kernel):
    kernel.run("%load_ext jupyter_llm\nimport json")
    return kernel


def outputs(result, kind="display_data"):
    return [m["content"] for m in result.messages if m["msg_type"] == kind]


def stderr(result) -> str:
    return "".join(m["content"]["text"] for m in result.messages
                   if m["msg_type"] == "stream" and m["content"]["name"] == "stderr")


def usage_error(result) -> str:
    """A UsageError: one stderr line, no traceback, and the cell fails."""
    assert result.reply["status"] == "error" and result.error is None
    return stderr(result)


def sent(emulator) -> list[dict]:
    return emulator.requests[-1]["body"]["messages"]


def chats(emulator) -> list[dict]:
    return [r for r in emulator.requests if r["path"].endswith("/chat/completions")]


def test_cells_stand_alone_unless_they_name_a_conversation(k, emulator):
    emulator.reset()
    for question in ("What is a p-value?", "And a confidence interval?"):
        assert k.run(f"%%llm -m qwen72b-awq\n{question}").error is None
    assert [m["role"] for m in sent(emulator)] == ["user"], "a plain %%llm cell sends no history"

    assert k.run("%%llm -m qwen72b-awq --chat -s 'Be brief.'\nWhat is a p-value?").error is None
    result = k.run("%%llm -m qwen72b-awq --chat\nAnd a confidence interval?")
    assert result.error is None, result.error
    messages = sent(emulator)
    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert messages[1]["content"] == "What is a p-value?"
    markdown = [o["data"]["text/markdown"] for o in outputs(result) if "text/markdown" in o["data"]][-1]
    assert "Earlier in this conversation: 1 question, the last: *What is a p-value?*" in markdown

    # A second name is a separate conversation.
    assert k.run("%%llm -m qwen72b-awq --chat review\nCheck my code.").error is None
    assert [m["role"] for m in sent(emulator)] == ["user"]


def test_history_shows_a_conversation_and_reset_clears_it(k, emulator):
    k.run("%%llm -m qwen72b-awq --chat notes\nFirst question about rivers.")
    shown = k.run("%llm_history notes")
    data = outputs(shown, "execute_result")[0]["data"]
    assert "First question about rivers." in data["text/markdown"]
    assert "1 turn" in data["text/markdown"]
    k.run("import jupyter_llm")
    assert value(k, "[m['role'] for m in jupyter_llm.Conversation.named('notes').messages]") == ["user", "assistant"]
    cleared = k.run("%llm_reset notes")
    assert "1 turn(s) forgotten" in cleared.notes()
    assert value(k, "len(jupyter_llm.Conversation.named('notes').messages)") == 0
    emulator.reset()
    k.run("%%llm -m qwen72b-awq --chat notes\nA fresh start.")
    assert [m["role"] for m in sent(emulator)] == ["user"]
    unknown = k.run("%llm_history nosuch")
    assert "No conversation named 'nosuch'" in usage_error(unknown)


def test_reasoning_is_not_sent_back(k, emulator):
    k.run("%%llm -m qwen3-32b --think --chat\nWhy is the sky blue?")
    assert value(k, "bool(_llm.reasoning)")
    emulator.reset()
    assert k.run("%%llm -m qwen3-32b --think --chat\nAnd at sunset?").error is None
    assistant = [m for m in sent(emulator) if m["role"] == "assistant"]
    assert len(assistant) == 1 and set(assistant[0]) == {"role", "content"}
    assert "<think>" not in assistant[0]["content"]


def test_in_out_err_and_underscore_are_filled_from_the_notebook(k, emulator):
    k.run("x = 6 * 7")
    k.run("x + 1")
    k.run("1 / 0")
    counts = value(k, "sorted(Err)")
    assert len(counts) == 1
    failed = counts[0]
    k.run("x * 2")
    emulator.reset()
    result = k.run(f"%%llm -m qwen72b-awq\nCode: {{In[{failed}]}}\nError: {{Err[{failed}]}}\n"
                   f"Before: {{Out[{failed - 1}]}}\nLast: {{_}}")
    assert result.error is None, result.error
    prompt = sent(emulator)[-1]["content"]
    assert prompt.startswith("Code: 1 / 0\nError: Traceback")
    assert "ZeroDivisionError: division by zero" in prompt
    assert 'Cell, line 1, in <module>' in prompt and "ipykernel_" not in prompt, "no temporary file name"
    assert "IPython" not in prompt and "site-packages" not in prompt, "the shell's own frames are left out"
    assert "Before: 43\nLast: 84" in prompt


def test_a_syntax_error_is_recorded_too(k, emulator):
    k.run("def broken(:\n    pass")
    emulator.reset()
    assert k.run("%%llm -m qwen72b-awq\nExplain: {Err[-1]}").error is None
    prompt = sent(emulator)[-1]["content"]
    assert "SyntaxError" in prompt and "def broken(:" in prompt and "ipykernel_" not in prompt


def test_the_err_hook_keeps_another_extensions_handler(k, emulator):
    k.run("%unload_ext jupyter_llm")
    k.run("def mine(shell, etype, value, tb, tb_offset=None):\n    print('MINE', etype.__name__)\n"
          "get_ipython().set_custom_exc((ZeroDivisionError,), mine)")
    k.run("%load_ext jupyter_llm")
    failed = k.run("1 / 0")
    assert "MINE ZeroDivisionError" in "".join(m["content"].get("text", "") for m in failed.messages
                                              if m["msg_type"] == "stream")
    assert value(k, "get_ipython().custom_exceptions == (ZeroDivisionError,)")
    assert len(value(k, "sorted(Err)")) == 1, "the error was recorded beside the other handler"


def test_a_dataframe_is_sent_compact_with_shape_and_dtypes(k, emulator):
    k.run("import pandas as pd\nbig = pd.DataFrame({'n': range(100_000), 'label': ['x' * 500] * 100_000})")
    emulator.reset()
    assert k.run("%%llm -m qwen72b-awq\nDescribe {big}").error is None
    prompt = sent(emulator)[-1]["content"]
    assert len(prompt) < 3_000
    assert "shape 100,000 × 2" in prompt and "n int64" in prompt
    assert "first 10 of 100,000 rows" in prompt


def test_llm_explain_sends_the_failing_cell_and_its_error(k, emulator):
    k.run("values = [1, 2, 3]\nvalues[10]")
    emulator.reset()
    result = k.run("%llm_explain -m qwen72b-awq")
    assert result.error is None, result.error
    prompt = sent(emulator)[-1]["content"]
    assert "values = [1, 2, 3]\nvalues[10]" in prompt
    assert "IndexError: list index out of range" in prompt
    assert "corrected code" in prompt


def test_json_format_returns_the_object(k, emulator):
    result = k.run("%%llm -m qwen72b-awq -f json -o data\nList three primes as JSON.")
    assert result.error is None, result.error
    data = value(k, "data")
    assert data["items"] == ["list", "three", "primes"]
    assert value(k, "_llm.parsed == data and _llm.content.startswith('You asked')")
    shown = [o["data"] for o in outputs(result) if "application/json" in o["data"]]
    assert shown and shown[0]["application/json"] == data


def test_invalid_json_is_a_clear_error_that_keeps_the_raw_text(k, emulator):
    failed = k.run("%%llm -m qwen72b-awq -f json -o data\nName three primes.")
    assert failed.error is not None and failed.error["ename"] == "FormatError"
    assert "not valid JSON" in failed.error["evalue"] and "_llm.content" in failed.error["evalue"]
    assert value(k, "'data' in dir()") is False
    assert value(k, "_llm.content.startswith('You asked: *Name three primes.*')")
    plain = [o["data"]["text/plain"] for o in outputs(failed)]
    assert any(p.startswith("You asked: *Name three primes.*") for p in plain), "the raw reply is shown"


def test_code_format_puts_the_code_in_a_new_cell(k, emulator):
    result = k.run("%%llm -m qwen72b-awq -f code\nWrite a fizzbuzz in Python.")
    assert result.error is None, result.error
    code = value(k, "_llm.parsed")
    assert code and "```" not in code and "print(" in code
    payload = [p for p in result.reply.get("payload", []) if p.get("source") == "set_next_input"]
    assert payload and payload[0]["text"] == code
    shown = [o["data"] for o in outputs(result) if "text/markdown" in o["data"]]
    assert shown[-1]["text/plain"] == code and shown[-1]["text/markdown"].startswith("```python\n")
    k.run("__vsc_ipynb_file__ = 'x.ipynb'")
    vscode = k.run("%%llm -m qwen72b-awq -f code\nWrite a fizzbuzz in Python.")
    assert not [p for p in vscode.reply.get("payload", []) if p.get("source") == "set_next_input"]
    assert "copy the code from above" in vscode.notes()


def test_html_format_is_sanitised(k, emulator):
    k.run("import jupyter_llm.display.formats as df_")
    bundle = value(k, "df_.format_bundle('html', '<b onclick=\"steal()\">hi</b><script>alert(1)</script>')")
    assert bundle["text/html"] == "<b>hi</b>"
    result = k.run("%%llm -m qwen72b-awq -f html\nMake an HTML table of fruits. <script>alert(1)</script>")
    assert result.error is None, result.error
    assert "<script>alert(1)</script>" in value(k, "_llm.content"), "the emulator echoed the script"
    html = [o["data"]["text/html"] for o in outputs(result) if "<table>" in o["data"].get("text/html", "")]
    assert html and "<script" not in html[0] and "<th>Item</th>" in html[0]


def test_math_and_text_formats(k, emulator):
    math = k.run("%%llm -m qwen72b-awq -f math\nWrite Bayes' theorem.")
    assert math.error is None
    latex = [o["data"] for o in outputs(math) if "text/latex" in o["data"]]
    assert latex and latex[0]["text/latex"].startswith("$$\n")
    text = k.run("%%llm -m qwen72b-awq -f text\nSay hi.")
    answer = [o["data"] for o in outputs(text) if set(o["data"]) == {"text/plain"}]
    assert answer and answer[0]["text/plain"].startswith("You asked: *Say hi.*")
    bad = k.run("%%llm -f yaml\nSay hi.")
    assert "Unknown output format 'yaml'" in usage_error(bad)


def test_image_from_the_current_figure_goes_to_a_vision_model(k, emulator):
    k.run("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\n"
          "fig, ax = plt.subplots(figsize=(20, 10))\nax.plot([1, 3, 2])")
    emulator.reset()
    result = k.run("%%llm -m qwen25-vl-7b --image plt --image ax\nWhat does this plot show?")
    assert result.error is None, result.error
    parts = sent(emulator)[-1]["content"]
    assert [p["type"] for p in parts] == ["text", "image_url", "image_url"]
    assert parts[1]["image_url"]["url"].startswith("data:image/png;base64,")
    answer = value(k, "_llm.content")
    assert answer.startswith("I see 2 images: 1448×724 PNG")  # 20×10 inches scaled to a megapixel


def test_image_to_a_model_without_vision_fails_before_any_request(k, emulator):
    k.run("import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nplt.plot([1, 2])")
    emulator.reset()
    result = k.run("%%llm -m qwen3-32b --image plt\nWhat does this plot show?")
    assert result.error is not None and result.error["ename"] == "CapabilityError"
    assert "cannot read images" in result.error["evalue"]
    assert not chats(emulator)
    missing = k.run("%%llm -m qwen25-vl-7b --image nosuch.png\nWhat is this?")
    assert "No image file at 'nosuch.png'" in usage_error(missing)


def test_a_prompt_near_the_context_warns_before_sending(k, emulator):
    k.run("long_text = 'word ' * 24_000")
    emulator.reset()
    result = k.run("%%llm -m qwen72b-awq\nSummarise: {long_text}")
    assert "over qwen72b-awq's context of 16,384 tokens" in result.notes()
    assert result.error is not None and result.error["ename"] == "ContextTooLong", "the server still decides"
    assert len(chats(emulator)) == 1


def test_a_conversation_that_outgrows_the_context_drops_its_oldest_turns_visibly(k, emulator):
    k.run("import jupyter_llm\njupyter_llm.session.model_overrides = {'qwen72b-awq': {'context': 2_000}}\n"
          "notes = 'data ' * 300")
    for number in range(4):
        result = k.run(f"%%llm -m qwen72b-awq --chat long\nQuestion {number}: {{notes}}")
        assert result.error is None, result.error
    assert "its 1 oldest turn(s) were left out of this request" in result.notes()
    questions = [m["content"][:10] for m in sent(emulator) if m["role"] == "user"]
    assert questions == ["Question 1", "Question 2", "Question 3"]
    assert value(k, "jupyter_llm.Conversation.named('long').turns") == 4
