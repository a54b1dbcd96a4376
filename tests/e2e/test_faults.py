"""The fault matrix: every gateway failure through ask() and through %%llm in a real kernel.

Each fault is injected by the emulator (an ``X-Emulator`` request header) over real HTTP.
What is asserted is what the user meets: the error class, the words that say what to do
next, how many requests reached the gateway (retried or not), and the partial text kept in
``.reply`` / ``_llm`` and shown. One kernel serves the whole module.
"""
from __future__ import annotations

import builtins
import os
import signal
import socket
import threading
import time

import pytest
from fault_matrix import MODEL, ROWS
from support import TEST_KEY, Kernel, closed_port, kernel_environment, kernel_value

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.chat import send
from jupyter_llm.core.client import Client
from jupyter_llm.core.events import Notice
from jupyter_llm.core.http import HTTPTransport

pytestmark = pytest.mark.timeout(180)

CELL = f"%%llm -m {MODEL}\nWrite a few lines about rivers."


def chat_requests(emulator) -> int:
    return sum(r["path"].endswith("/chat/completions") for r in emulator.requests)


def wait_until_idle(emulator, seconds: float = 8.0) -> bool:
    """True once the emulator serves a request that allows no other in flight.

    A stream left open would hold its slot for tens of seconds (2,000 tokens at 40/s),
    so getting through within a few seconds proves the client closed it.
    """
    probe = jupyter_llm.session
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        probe.extra_headers = {"X-Emulator": "max_concurrency=1; answer_tokens=3"}
        try:
            jupyter_llm.ask("ping", model=MODEL, display=False, max_retries=0)
            return True
        except errors.RateLimitError:
            time.sleep(0.1)
    return False


# -- through ask() ----------------------------------------------------------------------

@pytest.mark.parametrize("name", ROWS)
def test_fault_through_ask(llm, emulator, name):
    row = ROWS[name]
    for setting, value in row.settings.items():
        setattr(llm, setting, value)
    llm.extra_headers = {"X-Emulator": row.emulate}
    with pytest.raises(row.error) as caught:
        jupyter_llm.ask("Write a few lines about rivers.", model=MODEL, display=False)
    message = str(caught.value)
    for word in row.says:
        assert word in message, (word, message)
    assert chat_requests(emulator) == row.requests
    reply = caught.value.reply
    assert reply is not None and not reply.complete
    assert bool(reply.content) is row.partial
    assert TEST_KEY not in message and "JLLM-0123456789" not in message


def test_details_on_the_errors(llm, emulator):
    """The attributes a program can act on: the wait, the sizes, the models, the builtin type."""
    def fails(emulate, **settings):
        llm.extra_headers = {"X-Emulator": emulate}
        for setting, value in settings.items():
            setattr(llm, setting, value)
        with pytest.raises(errors.LLMError) as caught:
            jupyter_llm.ask("hi", model=MODEL, display=False)
        return caught.value

    assert fails("fault=429; retry_after=0.1", max_retries=0).retry_after == 0.1
    too_long = fails("fault=context")
    assert (too_long.limit, too_long.requested, too_long.status_code) == (16384, 16385, 400)
    missing = fails("fault=503-channel")
    assert "qwen3-32b" in missing.available and f"Did you mean {MODEL!r}" not in str(missing)
    timeout = fails("fault=slow; delay=3", timeout=1)
    assert isinstance(timeout, builtins.TimeoutError)


def test_429_waits_as_told_then_succeeds_and_says_so(llm, emulator):
    llm.extra_headers = {"X-Emulator": "fault=429; fault_times=2; retry_after=0.3"}
    llm.max_retries = 2
    seen: list = []
    started = time.monotonic()
    reply = send([{"role": "user", "content": "hi"}], model=MODEL, on_event=seen.append)
    assert time.monotonic() - started >= 0.6, "waited the Retry-After twice"
    assert reply.complete and reply.content
    notices = [e.text for e in seen if isinstance(e, Notice)]
    assert notices == ["HTTP 429; retrying in 0.3 s (attempt 2 of 3)", "HTTP 429; retrying in 0.3 s (attempt 3 of 3)"]
    assert chat_requests(emulator) == 3


def test_waits_are_bounded_and_back_off(llm, emulator):
    """Retry-After is honoured up to a cap; without one, 5xx waits double (with jitter)."""
    waits: list[float] = []
    transport = HTTPTransport(sleep=waits.append)  # the injected sleep records the waits, over real HTTP

    def run(emulate, retries):
        waits.clear()
        client = Client(llm, transport=transport, timeout=10, max_retries=retries,
                        extra_headers={"X-Emulator": emulate})
        return list(client.chat({"model": MODEL, "messages": [{"role": "user", "content": "hi"}]}))

    assert run("fault=429; fault_times=1; retry_after=3600", 1)
    assert waits == [60.0]
    emulator.reset()
    assert run("fault=500; fault_times=3", 3)
    assert len(waits) == 3
    for wait, base in zip(waits, (0.5, 1.0, 2.0)):
        assert base <= wait <= base * 1.25


def test_malformed_chunk_is_skipped_with_a_note(llm, emulator, capsys):
    llm.extra_headers = {"X-Emulator": "fault=malformed; cut_after=5"}
    reply = jupyter_llm.ask("Write a few lines about rivers.", model=MODEL, display=False)
    assert reply.complete and reply.content
    err = capsys.readouterr().err
    assert "skipped a malformed chunk from the server" in err and "may miss a few words" in err


def test_chunk_over_64_kib_is_read_whole(llm, emulator):
    """one-api would choke on it; the client reads lines of any length, so nothing is lost."""
    llm.extra_headers = {"X-Emulator": "fault=huge; cut_after=5"}
    reply = jupyter_llm.ask("Write a few lines about rivers.", model=MODEL, display=False)
    assert reply.complete and reply.content.count("lorem") * 6 > 64 * 1024


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "gateway.jupyter-llm-test.invalid"])
def test_unreachable_gateway_names_the_url_and_how_to_change_it(llm, host):
    url = f"http://{host.format(port=closed_port())}/v1"
    llm.base_url, llm.max_retries = url, 1
    seen: list = []
    with pytest.raises(errors.ConnectionError) as caught:
        send([{"role": "user", "content": "hi"}], model=MODEL, on_event=seen.append)
    message = str(caught.value)
    assert url in message and "%llm_config base_url=" in message and "JUPYTER_LLM_BASE_URL" in message
    assert "after 2 attempts" in message and isinstance(caught.value, builtins.ConnectionError)
    assert [e.text.split(";")[0] for e in seen if isinstance(e, Notice)] == ["connection failed"]


def test_interrupt_in_ask_closes_the_stream_keeps_the_text_and_propagates(llm, emulator):
    llm.extra_headers = {"X-Emulator": "rate=40; answer_tokens=2000"}

    def interrupt():
        deadline = time.monotonic() + 20
        while not chat_requests(emulator) and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.6)
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Thread(target=interrupt)
    timer.start()
    try:
        with pytest.raises(KeyboardInterrupt) as caught:
            jupyter_llm.ask("Write an essay.", model=MODEL, display=False)
    finally:
        timer.join()
    partial = caught.value.reply
    assert partial.content and not partial.complete and len(partial.content.split()) < 2000
    assert wait_until_idle(emulator), "the interrupted stream is still open on the gateway"


# -- through %%llm in one real kernel ---------------------------------------------------

@pytest.fixture(scope="module")
def k(emulator, tmp_path_factory):
    kernel = Kernel(kernel_environment(emulator.url, tmp_path_factory.mktemp("faults") / "config.toml"))
    kernel.run("%load_ext jupyter_llm\nimport json, jupyter_llm, jupyter_llm.api")
    yield kernel
    kernel.shutdown()


def configure(k, emulator, emulate: str = "", **settings) -> None:
    """Fresh settings in the kernel (from its environment), then these; no reply kept."""
    lines = ["s = jupyter_llm.session", "s.reload()", "jupyter_llm.core.session.catalog().refresh()",
             f"s.extra_headers = {{'X-Emulator': {emulate!r}}}" if emulate else "", "_llm = None"]
    lines += [f"s.{name} = {value!r}" for name, value in settings.items()]
    result = k.run("\n".join(lines))
    assert result.error is None, result.error
    emulator.reset()


def final_markdown(result) -> str:
    texts = [m["content"]["data"]["text/markdown"] for m in result.messages
             if m["msg_type"] == "display_data" and "text/markdown" in m["content"]["data"]]
    return texts[-1] if texts else ""


@pytest.mark.parametrize("name", ROWS)
def test_fault_through_llm_cell(k, emulator, name):
    row = ROWS[name]
    configure(k, emulator, row.emulate, **row.settings)
    result = k.run(CELL)
    error = result.error
    assert error is not None and error["ename"] == row.error.__name__
    assert len(error["traceback"]) == 1, "one line, not a traceback wall"
    for word in row.says:
        assert word in error["traceback"][0], (word, error["traceback"][0])
    assert chat_requests(emulator) == row.requests
    kept = kernel_value(k, "[_llm.content, _llm.complete]")
    assert kept[1] is False
    if row.partial:
        assert kept[0] and final_markdown(result).strip() == kept[0].strip()
        assert "INCOMPLETE" in result.text()
    else:
        assert kept[0] == "" and final_markdown(result) == ""
    assert TEST_KEY not in result.text() and "JLLM-0123456789" not in result.text()


def test_429_notice_in_the_cell_then_the_answer(k, emulator):
    configure(k, emulator, "fault=429; fault_times=1; retry_after=0.3", max_retries=2)
    result = k.run(CELL)
    assert result.error is None, result.error
    assert "HTTP 429; retrying in 0.3 s (attempt 2 of 3)" in result.text(), "the wait is shown while waiting"
    assert chat_requests(emulator) == 2
    assert final_markdown(result).strip() == kernel_value(k, "_llm.content").strip()


def test_malformed_and_huge_chunks_in_the_cell(k, emulator):
    configure(k, emulator, "fault=malformed; cut_after=5")
    result = k.run(CELL)
    assert result.error is None, result.error
    assert "skipped a malformed chunk" in result.notes() and final_markdown(result)
    configure(k, emulator, "fault=huge; cut_after=5")
    result = k.run(CELL)
    assert result.error is None, result.error
    assert kernel_value(k, "_llm.complete") and kernel_value(k, "len(_llm.content)") > 64 * 1024


@pytest.mark.parametrize("host", ["127.0.0.1:{port}", "gateway.jupyter-llm-test.invalid"])
def test_unreachable_gateway_in_the_cell(k, emulator, host):
    url = f"http://{host.format(port=closed_port())}/v1"
    configure(k, emulator, max_retries=0)
    assert k.run(f"%llm_config base_url={url}").error is None
    result = k.run(CELL)
    error = result.error
    assert error["ename"] == "ConnectionError" and len(error["traceback"]) == 1
    assert url in error["traceback"][0] and "%llm_config base_url=" in error["traceback"][0]


def test_kernel_interrupt_closes_the_stream_and_keeps_the_text(k, emulator, llm):
    configure(k, emulator, "rate=40; answer_tokens=2000")
    seen = threading.Event()

    def watch(msg):
        if msg["msg_type"] in ("comm_msg", "comm_open", "display_data"):
            seen.set()

    timer = threading.Thread(target=lambda: (seen.wait(20), time.sleep(0.6), k.interrupt()))
    timer.start()
    result = k.run("%%llm -m qwen72b-awq\nWrite an essay.", on_message=watch)
    timer.join()
    assert result.error["ename"] == "KeyboardInterrupt", "the interrupt is not swallowed"
    partial, complete = kernel_value(k, "[_llm.content, _llm.complete]")
    assert partial and not complete and final_markdown(result).strip() == partial.strip()
    assert wait_until_idle(emulator), "the interrupted stream is still open on the gateway"
