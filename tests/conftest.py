"""Shared fixtures: a live gateway emulator on loopback and a real IPython kernel."""
from __future__ import annotations

import json

import os
import queue
from dataclasses import dataclass, field

import pytest

# Recognisable on purpose: secret-scanning tests look for it (and its middle part)
# in every output, error, log and file the tests produce.
TEST_KEY = "sk-test-JLLM-0123456789-SECRET-abcdef"


@pytest.fixture(scope="session")
def emulator():
    """An in-process gateway emulator on 127.0.0.1, shared by the whole test run."""
    from jupyter_llm.emulator import start

    server = start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path, monkeypatch):
    """Keep the developer's own config file and environment out of every test."""
    for name in list(os.environ):
        if name.startswith(("JUPYTER_LLM_", "OPENAI_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_LLM_CONFIG_FILE", str(tmp_path / "config.toml"))


@pytest.fixture
def llm(emulator):
    """``jupyter_llm.session`` pointed at the emulator with TEST_KEY; request log and caches cleared."""
    import jupyter_llm
    from jupyter_llm.data import batch
    from jupyter_llm.core import limiter, usage
    from jupyter_llm.api import catalog
    from jupyter_llm.data.embeddings import clear_cache

    session = jupyter_llm.session
    session.reload()
    session.base_url, session.api_key = emulator.url, TEST_KEY
    catalog().refresh()
    clear_cache()
    batch.clear_cache()
    limiter.shared().reset()
    usage.clear()
    emulator.reset()
    yield session
    session.reload()
    catalog().refresh()


@dataclass
class CellResult:
    """What the front end received while one cell ran."""

    messages: list[dict] = field(default_factory=list)
    reply: dict | None = None

    @property
    def outputs(self) -> list[dict]:
        kinds = {"stream", "display_data", "execute_result", "error", "update_display_data"}
        return [m for m in self.messages if m["msg_type"] in kinds]

    @property
    def error(self) -> dict | None:
        errors = [m["content"] for m in self.messages if m["msg_type"] == "error"]
        return errors[0] if errors else None

    def text(self) -> str:
        """Every string the front end was sent for this cell, joined (for searching)."""
        import json

        # execute_input only echoes the code that was typed; everything else is ours.
        return "\n".join(
            json.dumps(m["content"], ensure_ascii=False) for m in self.messages if m["msg_type"] != "execute_input"
        )


class Kernel:
    """A real ipykernel in its own process, driven through jupyter_client."""

    def __init__(self, env: dict[str, str]):
        from jupyter_client import KernelManager

        # The native "python3" kernel runs on this interpreter, so the kernel sees this venv.
        self.manager = KernelManager(kernel_name="python3")
        self.manager.start_kernel(env=env)
        self.client = self.manager.client()
        self.client.start_channels()
        self.client.wait_for_ready(timeout=60)

    def run(self, code: str, timeout: float = 60, on_message=None) -> CellResult:
        msg_id = self.client.execute(code, store_history=True)
        result = CellResult()
        while True:
            try:
                msg = self.client.get_iopub_msg(timeout=timeout)
            except queue.Empty:
                raise TimeoutError(f"cell did not finish within {timeout} s: {code[:80]!r}")
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if on_message:
                on_message(msg)
            result.messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                break
        while True:
            reply = self.client.get_shell_msg(timeout=timeout)
            if reply["parent_header"].get("msg_id") == msg_id:
                result.reply = reply["content"]
                break
        return result

    def interrupt(self):
        self.manager.interrupt_kernel()

    def shutdown(self):
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)


def kernel_environment(base_url: str, config_file) -> dict[str, str]:
    """The environment of a kernel whose session points at ``base_url`` with TEST_KEY."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_"))}
    env.update(
        JUPYTER_LLM_BASE_URL=base_url,
        JUPYTER_LLM_API_KEY=TEST_KEY,
        JUPYTER_LLM_CONFIG_FILE=str(config_file),
        PYTHONUNBUFFERED="1",
    )
    return env


def kernel_value(kernel: Kernel, expr: str):
    """The value of ``expr`` in the kernel, sent back as JSON (the cell must not fail)."""
    result = kernel.run(f"print(__import__('json').dumps({expr}))")
    assert result.error is None, result.error
    stdout = [m["content"]["text"] for m in result.messages
              if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"]
    return json.loads("".join(stdout))


def raw_html(markdown: str) -> bool:
    """True when a CommonMark renderer that allows HTML would emit raw HTML for ``markdown``.

    Written apart from display/safe.py on purpose: the tests' own oracle.
    """
    from markdown_it import MarkdownIt

    stack = list(MarkdownIt("commonmark", {"html": True}).parse(markdown))
    while stack:
        token = stack.pop()
        if token.type in ("html_block", "html_inline"):
            return True
        stack.extend(token.children or ())
    return False


@pytest.fixture
def kernel_env(emulator, tmp_path):
    return kernel_environment(emulator.url, tmp_path / "config.toml")


@pytest.fixture
def kernel(kernel_env):
    """A fresh kernel whose session points at the emulator with TEST_KEY."""
    k = Kernel(kernel_env)
    yield k
    k.shutdown()
