"""Helpers of the tests: the recognisable test key, a real kernel driven through jupyter_client,
the environment binder/start gives, and an HTML oracle written apart from the package's own sanitiser."""
from __future__ import annotations

import json
import os
import queue
from pathlib import Path
import socket
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

# Recognisable on purpose: secret-scanning tests look for it (and its middle part)
# in every output, error, log and file the tests produce.
TEST_KEY = "sk-test-JLLM-0123456789-SECRET-abcdef"
#: The key's middle part: a leak that cut or re-encoded the key still shows it.
MIDDLE = "JLLM-0123456789"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_url() -> str:
    """A gateway URL on a closed loopback port: any request to it fails to connect."""
    return f"http://127.0.0.1:{closed_port()}/v1"


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
        JUPYTER_LLM_DATA_DIR=str(Path(config_file).parent / "data"),
        PYTHONUNBUFFERED="1",
    )
    return env


def opening_environment() -> dict[str, str]:
    """The environment the shipped notebooks open in on Binder and under `make lab`: binder/start's."""
    start = Path(__file__).resolve().parents[1] / "binder" / "start"
    done = subprocess.run([str(start), "env", "-0"], capture_output=True, text=True, check=True,
                          env={k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_LLM_CASSETTE")})
    return dict(item.split("=", 1) for item in done.stdout.split("\0") if "=" in item)


def kernel_value(kernel: Kernel, expr: str):
    """The value of ``expr`` in the kernel, sent back as JSON (the cell must not fail)."""
    result = kernel.run(f"print(__import__('json').dumps({expr}))")
    assert result.error is None, result.error
    stdout = [m["content"]["text"] for m in result.messages
              if m["msg_type"] == "stream" and m["content"]["name"] == "stdout"]
    return json.loads("".join(stdout))


def raw_html(markdown: str) -> bool:
    """True when a CommonMark renderer that allows HTML would emit raw HTML for ``markdown``.

    The tests' own oracle, built differently from the package's check on purpose: with raw
    HTML allowed, the page differs from the one rendered with HTML escaped exactly when the
    text holds raw HTML.
    """
    from markdown_it import MarkdownIt

    allowed = MarkdownIt("commonmark", {"html": True}).render(markdown)
    return allowed != MarkdownIt("commonmark", {"html": False}).render(markdown)
