"""``%llm_doctor`` in a real kernel: each ✗ the doctor can say, produced by the emulator's faults
(a key it does not know, a spent quota, a model the key may not use, a thinking switch the
server ignores, failing embeddings, no rerank route, a slow model) and by the settings (no
key, a URL that is not one, a closed port, a dead proxy, a model not served or not allowed,
a route whose key reaches nothing)."""
from __future__ import annotations

import pytest
from support import MIDDLE, TEST_KEY, Kernel, closed_port, closed_url, kernel_environment, kernel_value

from jupyter_llm.emulator import start

pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def broken():
    """A gateway that knows one key, ignores Qwen3's thinking switch, fails embeddings and has no rerank."""
    with start(keys={TEST_KEY: "*"}, models={"qwen3-32b": {"thinking_switch": False},
                                             "Qwen3-Embedding-8B": {"fault": "500"},
                                             "bge-reranker-v2-m3": {"fault": "no-route"}}) as server:
        yield server


@pytest.fixture
def k(broken, tmp_path):
    kernel = Kernel(kernel_environment(broken.url, tmp_path / "config.toml"))
    kernel.run("%load_ext jupyter_llm\nimport jupyter_llm")
    yield kernel
    kernel.shutdown()


def doctor(k, options: str = "") -> dict[str, tuple]:
    """Run %llm_doctor as a user does; each line's (ok, found, todo) by check name."""
    shown = k.run(f"report = %llm_doctor {options}\nreport")
    assert shown.error is None, shown.error
    text = shown.text()
    assert TEST_KEY not in text and MIDDLE not in text
    rows = kernel_value(k, "[[c.name, c.ok, c.found, c.todo] for c in report.checks]")
    return {name: (ok, found, todo) for name, ok, found, todo in rows}


def test_a_healthy_gateway_reports_every_line_and_its_time(kernel, emulator):
    kernel.run("%load_ext jupyter_llm\nimport jupyter_llm\n%llm_config model=qwen3-32b")
    shown = kernel.run("%llm_doctor")
    data = [m["content"]["data"] for m in shown.messages if m["msg_type"] == "execute_result"][0]
    plain = data["text/plain"]
    assert plain.startswith("jupyter-llm doctor: 16 checks in ") and ", no problems" in plain
    seconds = float(plain.split(" checks in ")[1].split(" s,")[0])
    assert seconds < 5
    assert "✓ thinking switch  honoured" in plain and "✓ key" in plain and "<table>" in data["text/html"]
    assert "JUPYTER_LLM_BASE_URL" in plain and "sk-…cdef (37 characters), from JUPYTER_LLM_API_KEY" in plain
    assert TEST_KEY not in shown.text() and MIDDLE not in shown.text()


def test_the_gateways_refusals_and_failures_each_have_their_line(k, broken):
    rows = doctor(k, "-m qwen3-32b")
    assert rows["key"][0] is True and rows["chat"][0] is True
    assert rows["thinking switch"][:2] == (False, "not honoured: qwen3-32b thought with thinking off")
    assert "soft_think_switch=true" in rows["thinking switch"][2]
    assert rows["embeddings"][0] is False and "GatewayError" in rows["embeddings"][1]
    assert rows["rerank"][:2] == (False, "bge-reranker-v2-m3: the gateway has no /v1/rerank route")
    assert "one-api, for one, does not serve /v1/rerank" in rows["rerank"][2]

    k.run("jupyter_llm.session.api_key = 'sk-not-the-right-one-42'")
    rows = doctor(k, "-m qwen3-32b")
    assert rows["key"][:2] == (False, "refused: wrong, expired or disabled key") and "无效的令牌" in rows["key"][2]
    assert rows["models"][0] is None and rows["chat"][0] is None

    k.run("import os\njupyter_llm.session.api_key = os.environ['JUPYTER_LLM_API_KEY']\n"
          "jupyter_llm.session.extra_headers = {'X-Emulator': 'quota=0'}")
    rows = doctor(k, "-m qwen3-32b")
    assert rows["key"][:2] == (False, "refused: its quota is spent") and "额度已用尽" in rows["key"][2]

    k.run("jupyter_llm.session.extra_headers = {'X-Emulator': 'quota=5; fault=not-allowed'}")
    rows = doctor(k, "-m qwen3-32b")
    assert rows["key"][0] is True and rows["quota"][0] is True and rows["quota"][1].startswith("5.00 of 5.00 left (")
    assert rows["chat"][:2] == (False, "refused: this key may not use qwen3-32b") and "无权使用模型" in rows["chat"][2]

    k.run("jupyter_llm.session.extra_headers = {'X-Emulator': 'fault=slow; delay=10'}")
    rows = doctor(k, "-m qwen3-32b --timeout 1")
    assert rows["chat"][:2] == (False, "qwen3-32b sent nothing in time")


def test_the_settings_mistakes_each_have_their_line(k, broken, tmp_path):
    rows = doctor(k, "-m no-such-model")
    assert rows["models"][0] is False and rows["models"][1].startswith("no-such-model is not served for this key")

    k.run("jupyter_llm.session.allowed_models = ['qwq-*']")
    rows = doctor(k, "-m qwen3-32b")
    assert rows["models"][0] is False and rows["models"][1].startswith("qwen3-32b is not allowed here")
    k.run("jupyter_llm.session.allowed_models = None\n"
          "from jupyter_llm.core.config import Route\n"
          "jupyter_llm.session.routes = {'group-z': Route('group-z', models=('zzz-*',))}")
    rows = doctor(k, "-m qwen3-32b")
    assert rows["route group-z"][:2] == (False, "zzz-*: its key reaches no such model")

    k.run("jupyter_llm.session.routes = {}\njupyter_llm.session.api_key = None")
    rows = doctor(k)
    assert rows["API key"][:2] == (False, "none set") and rows["key"][:2] == (
        False, "refused: wrong, expired or disabled key")

    k.run("jupyter_llm.session.base_url = 'gateway.example.org/v1'")
    rows = doctor(k)
    assert rows["gateway URL"][:2] == (False, "'gateway.example.org/v1' is not a web address")
    assert rows["reachable"][0] is False

    k.run(f"jupyter_llm.session.base_url = '{closed_url()}'")
    rows = doctor(k)
    assert rows["reachable"][:2] == (False, "could not connect") and "Could not reach the gateway" in rows[
        "reachable"][2]
    assert rows["quota"][0] is None and rows["chat"][0] is None


def test_a_proxy_variable_is_seen_and_a_dead_proxy_is_named(k, broken):
    port = closed_port()
    # A new timeout makes a new HTTP client, which reads the environment as it is now.
    k.run(f"import os\nos.environ['HTTP_PROXY'] = 'http://ann:secret@127.0.0.1:{port}'\n"
          "os.environ.pop('NO_PROXY', None)\nos.environ.pop('no_proxy', None)")
    rows = doctor(k, "--timeout 2.5")
    assert rows["proxy"][0] is True and f"http_proxy=http://•••@127.0.0.1:{port}" in rows["proxy"][1]
    assert f"go through http://•••@127.0.0.1:{port}" in rows["proxy"][1]
    assert rows["reachable"][0] is False and "went through the proxy" in rows["reachable"][2]
    k.run("os.environ['NO_PROXY'] = '127.0.0.1'")
    rows = doctor(k, "--timeout 2.4")
    assert "go straight to it" in rows["proxy"][1] and rows["reachable"][0] is True
    assert "secret" not in kernel_value(k, "str(report)")
