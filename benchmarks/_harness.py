"""Shared machinery: the emulator process, a real kernel with raw iopub capture, medians.

Bytes are counted on the wire: a ZMQ SUB socket of our own receives the kernel's iopub
frames as they are, so a message's size is exactly what jupyter_server would receive
(identity, signature, header, parent header, metadata, content, buffers).
"""
from __future__ import annotations

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ._final import FinalState

ROOT = Path(__file__).resolve().parent.parent
#: Never printed; the emulator accepts any key unless told otherwise.
FAKE_KEY = "sk-bench-not-a-real-key"
#: The model every benchmark asks; the X-Emulator header decides how it answers.
MODEL = "qwen3-32b"
DELIM = b"<IDS|MSG>"
OUTPUT_TYPES = {"display_data", "update_display_data", "execute_result", "stream", "error",
                "clear_output", "comm_open", "comm_msg", "comm_close"}
#: Messages that change something already shown (creating or closing a view is not an update).
UPDATE_TYPES = {"update_display_data", "comm_msg"}


def emulator_header(answer: int, reasoning: int, rate: float = 0, mode: str = "reasoning_content") -> dict:
    """The per-request emulator settings for a reply of ``reasoning`` + ``answer`` tokens."""
    value = f"answer_tokens={answer}; reasoning_tokens={reasoning}; rate={rate:g}; reasoning={mode}"
    return {"X-Emulator": value}


def median(values) -> float:
    return statistics.median(values)


def interleave(runs: dict[str, Callable[[], object]], repeats: int, *, warmup: int = 1) -> dict[str, list]:
    """Call every function in turn (A B A B ...) ``repeats`` times; warm-up results are dropped.

    Interleaving spreads any drift of the machine (another process, CPU frequency, caches
    filling up) over both sides instead of handing it all to whichever runs second.
    """
    results: dict[str, list] = {name: [] for name in runs}
    for i in range(warmup + repeats):
        for name, run in runs.items():
            value = run()
            if i >= warmup:
                results[name].append(value)
    return results


def scratch_env(tmp: Path) -> dict[str, str]:
    """An environment with no user config, no real gateway settings and a throwaway IPYTHONDIR."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_"))}
    env.update(
        JUPYTER_LLM_CONFIG_FILE=str(tmp / "no-config.toml"),
        JUPYTER_LLM_DATA_DIR=str(tmp / "data"),
        IPYTHONDIR=str(tmp / "ipython"),
        PYTHONUNBUFFERED="1",
        MPLBACKEND="Agg",
    )
    return env


class Emulator:
    """``python -m jupyter_llm.emulator --port 0`` in its own process (its own GIL and core)."""

    def __init__(self, env: dict[str, str]):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "jupyter_llm.emulator", "--port", "0"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT,
        )
        line = self.process.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/v1)\s*$", line)
        if not match:
            self.stop()
            raise RuntimeError(f"the emulator did not print its URL (got {line!r}; stderr: "
                               f"{self.process.stderr.read()[-2000:]!r})")
        self.url = match.group(1)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process, all its threads included (psutil is not a dependency)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Message:
    msg_type: str
    parent_id: str | None
    sent: float  # the kernel's header date, seconds since the epoch
    wire_bytes: int  # every frame, headers included
    payload_bytes: int  # content frame + binary buffers


@dataclass
class Cell:
    """What the front end received for one executed cell, plus the kernel's CPU time."""

    messages: list[Message] = field(default_factory=list)
    foreign: int = 0  # output sent while the cell ran but parented to another request
    cpu: float = 0.0
    wall: float = 0.0
    error: dict | None = None
    final: FinalState | None = None

    @property
    def outputs(self) -> list[Message]:
        return [m for m in self.messages if m.msg_type in OUTPUT_TYPES]

    @property
    def wire_bytes(self) -> int:
        return sum(m.wire_bytes for m in self.outputs)

    @property
    def payload_bytes(self) -> int:
        return sum(m.payload_bytes for m in self.outputs)

    def rates(self, kinds: set[str] = OUTPUT_TYPES) -> tuple[float, float]:
        """(peak over any 1-second window, mean) messages per second of ``kinds``."""
        times = sorted(m.sent for m in self.outputs if m.msg_type in kinds)
        if len(times) < 2:
            return float(len(times)), float(len(times))
        peak, start = 0, 0
        for end, t in enumerate(times):
            while t - times[start] >= 1.0:
                start += 1
            peak = max(peak, end - start + 1)
        # Over the streaming time, but at least a second, so a burst is not a "rate".
        return float(peak), len(times) / max(times[-1] - times[0], 1.0)


class Kernel:
    """A real ipykernel (the venv's python) driven through jupyter_client, iopub read raw."""

    def __init__(self, env: dict[str, str], name: str = "kernel"):
        import zmq
        from jupyter_client import KernelManager

        self.name = name
        self._where = where = Path(tempfile.mkdtemp(prefix=f"bench-{name}-"))
        # IPC sockets in a private directory: loopback only by construction, and no
        # "running over TCP without encryption" warning in the benchmark's output.
        self.manager = KernelManager(
            kernel_cmd=[sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            transport="ipc", ip=str(where / "kernel"),
        )
        self.manager.connection_file = str(where / "connection.json")
        self.manager.start_kernel(env=env, cwd=str(ROOT))
        self.pid = self.manager.provisioner.process.pid
        self.client = self.manager.client()
        # Only the shell channel through jupyter_client: its iopub channel would parse every
        # message in Python and could fall behind (ZMQ then drops, and we would count less).
        self.client.start_channels(iopub=False, stdin=False, hb=False, control=False)
        self._context = zmq.Context()
        self._socket = self._context.socket(zmq.SUB)
        self._socket.setsockopt(zmq.RCVHWM, 0)
        self._socket.setsockopt(zmq.SUBSCRIBE, b"")
        self._socket.connect(f"ipc://{self.manager.ip}-{self.manager.iopub_port}")
        self._lock = threading.Lock()
        self._cell: Cell | None = None
        self._cell_id: str | None = None
        self._busy = False
        self._idle = threading.Event()
        self._seen = threading.Event()
        self._stop = False
        self._failure: Exception | None = None
        self._reader = threading.Thread(target=self._read, name=f"iopub-{name}", daemon=True)
        self._reader.start()
        self._wait_ready()

    def _wait_ready(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.client.kernel_info()
            try:
                reply = self.client.get_shell_msg(timeout=1)
            except Exception:  # queue.Empty: the kernel is still starting
                continue
            # The SUB socket joins late (ZMQ's slow joiner): wait until it hears something.
            if reply["msg_type"] == "kernel_info_reply" and self._seen.wait(0.5):
                return
        raise RuntimeError(f"{self.name}: kernel not ready within {timeout} s")

    def _read(self) -> None:
        import zmq

        while not self._stop:
            if not self._socket.poll(200):
                continue
            try:
                frames = self._socket.recv_multipart()
            except zmq.ZMQError:
                return
            self._seen.set()
            try:
                self._handle(frames)
            except Exception as exc:  # a harness bug: fail the cell now, not after its timeout
                self._failure = exc
                self._idle.set()

    def _handle(self, frames: list[bytes]) -> None:
        i = frames.index(DELIM)
        header, parent, _metadata, content, *buffers = frames[i + 2:]
        header = json.loads(header)
        parent_id = json.loads(parent).get("msg_id")
        msg_type = header["msg_type"]
        with self._lock:
            cell = self._cell
            if cell is None:
                return
            mine = parent_id == self._cell_id
            if msg_type == "status":
                if mine and json.loads(content)["execution_state"] == "busy":
                    self._busy = True
                elif mine and json.loads(content)["execution_state"] == "idle":
                    self._idle.set()
                return
            if not mine:
                # Sent while our cell ran but to another parent: a front end would put it
                # in the wrong cell. Counted apart so the report can say so.
                if not self._busy or msg_type not in OUTPUT_TYPES:
                    return
                cell.foreign += 1
            cell.messages.append(Message(
                msg_type=msg_type,
                parent_id=parent_id,
                sent=datetime.fromisoformat(header["date"]).timestamp(),
                wire_bytes=sum(len(f) for f in frames),
                payload_bytes=len(content) + sum(len(b) for b in buffers),
            ))
            if msg_type == "error":
                cell.error = json.loads(content)
            if msg_type in OUTPUT_TYPES:
                cell.final.add(msg_type, content)

    def run(self, code: str, timeout: float = 300) -> Cell:
        """Execute ``code`` and return everything iopub carried for it, with CPU seconds."""
        cell = Cell(final=FinalState())
        with self._lock:
            self._cell, self._busy = cell, False
            self._idle.clear()
            cpu0, t0 = cpu_seconds(self.pid), time.perf_counter()
            self._cell_id = self.client.execute(code, store_history=False)
        if not self._idle.wait(timeout):
            raise TimeoutError(f"{self.name}: cell did not finish within {timeout} s: {code[:80]!r}")
        if self._failure is not None:
            raise RuntimeError(f"{self.name}: reading iopub failed") from self._failure
        cell.cpu, cell.wall = cpu_seconds(self.pid) - cpu0, time.perf_counter() - t0
        with self._lock:
            self._cell = None
        reply = self.client.get_shell_msg(timeout=timeout)
        while reply["parent_header"].get("msg_id") != self._cell_id:  # e.g. an extra kernel_info_reply
            reply = self.client.get_shell_msg(timeout=timeout)
        if reply["content"]["status"] != "ok" and cell.error is None:
            cell.error = reply["content"]
        return cell

    def value(self, expression: str):
        """The value of a JSON-serialisable expression in the kernel."""
        cell = self.run(f"import json as _j; print(_j.dumps({expression}))")
        if cell.error:
            raise RuntimeError(f"{self.name}: {expression!r} failed: {_error_text(cell.error)}")
        texts = [t for t in cell.final.output_texts()]
        return json.loads("".join(texts))

    def check(self, code: str, timeout: float = 300) -> Cell:
        """Run ``code`` and raise if it failed."""
        cell = self.run(code, timeout)
        if cell.error:
            raise RuntimeError(f"{self.name}: cell failed: {_error_text(cell.error)}")
        return cell

    def shutdown(self) -> None:
        self._stop = True
        self._reader.join(2)
        self._socket.close(linger=0)
        self._context.term()
        self.client.stop_channels()
        self.manager.shutdown_kernel(now=True)
        shutil.rmtree(self._where, ignore_errors=True)


def _error_text(error: dict) -> str:
    text = f"{error.get('ename')}: {error.get('evalue')}"
    return re.sub(r"\x1b\[[0-9;]*m", "", text)[:2000]


class Context:
    """What every benchmark shares: sizes, the emulator, and one kernel per approach.

    One kernel per approach, reused across runs, so every run after the warm-up finds
    its imports done, as the second ``%%llm`` cell of a notebook would.
    """

    def __init__(self, *, quick: bool):
        from . import _cells

        self.quick = quick
        self.tmp = Path(tempfile.mkdtemp(prefix="jupyter-llm-bench-"))
        self.env = scratch_env(self.tmp)
        self.emulator = Emulator(self.env)
        self.kernel_env = dict(self.env, JUPYTER_LLM_BASE_URL=self.emulator.url, JUPYTER_LLM_API_KEY=FAKE_KEY)
        self._setups = {"ours": _cells.OURS_SETUP, "baseline": _cells.BASELINE_SETUP}
        self._kernels: dict[str, Kernel] = {}
        self.notes: list[str] = []

    def kernel(self, kind: str) -> Kernel:
        if kind not in self._kernels:
            kernel = Kernel(self.kernel_env, name=kind)
            kernel.check(self._setups[kind])
            self._kernels[kind] = kernel
        return self._kernels[kind]

    def close(self) -> None:
        for kernel in self._kernels.values():
            kernel.shutdown()
        self.emulator.stop()
        shutil.rmtree(self.tmp, ignore_errors=True)
