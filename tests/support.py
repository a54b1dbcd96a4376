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
#: A key in another format than ``sk-...`` (a gateway's own tokens), with the same middle part.
OTHER_KEY = "gw.7f3a9c2e/JLLM-0123456789+b41dQ"


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_url() -> str:
    """A gateway URL on a closed loopback port: any request to it fails to connect."""
    return f"http://127.0.0.1:{closed_port()}/v1"


def unreachable(session) -> None:
    """Point ``session`` at a port nobody listens on: any real request would fail."""
    from jupyter_llm.core.session import catalog

    session.base_url = closed_url()
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

    def notes(self) -> str:
        """The notes shown (grey lines in a kernel after ``%load_ext``), one a line, prefix included."""
        shown = [m["content"]["data"].get("text/plain", "") for m in self.messages if m["msg_type"] == "display_data"]
        return "".join(f"{text}\n" for text in shown if text.startswith("jupyter-llm: "))

    def text(self) -> str:
        """Every string the front end was sent for this cell, joined (for searching); the live
        view's compressed operations are inflated first, as its front end does."""
        views: dict[str, LiveDom] = {}
        parts = []
        # execute_input only echoes the code that was typed; everything else is ours.
        for m in self.messages:
            if m["msg_type"] == "execute_input":
                continue
            comm = m["content"].get("comm_id") if m["msg_type"] == "comm_msg" else None
            ops = views.setdefault(comm, LiveDom()).feed(m) if comm else []
            parts.append(json.dumps(ops or m["content"], ensure_ascii=False))
        return "\n".join(parts)

    def live_strings(self) -> list[str]:
        """Every HTML string the live view was sent, inflated."""
        views: dict[str, LiveDom] = {}
        for m in self.messages:
            if m["msg_type"] == "comm_msg":
                views.setdefault(m["content"]["comm_id"], LiveDom()).feed(m)
        return [text for dom in views.values() for text in dom.strings()]


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
        # Not "data": a test's notebook folder may hold (or link to) the notebooks' own data/.
        JUPYTER_LLM_DATA_DIR=str(Path(config_file).parent / "jupyter-llm-data"),
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


class LiveDom:
    """What the live view's front end shows, rebuilt from its messages as ``live.js`` does.

    ``feed(msg)`` takes every comm message of the cell; the custom ones carry a deflate
    stream of operations, inflated here in order. Each column is kept as HTML: finished
    blocks, then the block in progress (its start, the pieces appended, the unfinished end).
    """

    def __init__(self):
        import zlib

        self._inflate = zlib.decompressobj()
        self.ops: list[list] = []
        self.columns = {"r": self._column(), "a": self._column()}
        self.header: tuple | None = None
        self.extras = {"tools": "", "notes": ""}
        self.raw_bytes = 0

    @staticmethod
    def _column() -> dict:
        return {"blocks": [], "tail": "", "pieces": [], "partial": ""}

    def feed(self, msg: dict) -> list[list]:
        data = msg["content"].get("data", {})
        if msg["msg_type"] != "comm_msg" or data.get("method") != "custom":
            return []
        raw = self._inflate.decompress(bytes(msg["buffers"][0]))
        assert len(raw) == data["content"]["z"], "a message must inflate whole: the stream is flushed per message"
        self.raw_bytes += len(raw)
        ops = json.loads(raw)
        for op in ops:
            self._apply(op)
        self.ops += ops
        return ops

    def _apply(self, op: list) -> None:
        target, *args = op
        if target == "h":
            title = args[0] if args[0] is not None else (self.header or (None,))[0]
            self.header = (title, args[1])
            return
        if target == "x":
            self.extras[args[0]] = args[1]
            return
        if target == "z":
            self.columns = {"r": self._column(), "a": self._column()}
            return
        col, code = self.columns[target], args[0]
        if code == "b":
            col["blocks"].append(args[1])
        elif code in "tg":
            col.update(tail=args[1], pieces=[], partial="")
        elif code == "+":
            col["pieces"].append(args[1])
        elif code == "p":
            col["partial"] = args[1]
        elif code == "s":
            shown = args[1] if args[1] is not None else col["tail"] + "".join(col["pieces"])
            col["blocks"].append(shown)
            col.update(tail="", pieces=[], partial="")

    def html(self, target: str) -> str:
        col = self.columns[target]
        return "".join(col["blocks"]) + col["tail"] + "".join(col["pieces"]) + col["partial"]

    def strings(self) -> list[str]:
        """Every HTML string the operations carried (for searching)."""
        return [arg for op in self.ops for arg in op[1:] if isinstance(arg, str)]
