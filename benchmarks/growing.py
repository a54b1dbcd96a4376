"""One block that keeps growing: a 4,000-row Markdown table, a 200 KB one-line JSON reply, 50 MB of JSON.

Each is streamed at full speed by the emulator into ``%%llm`` in a real kernel, and read
by the raw SDK loop that shows nothing (the stream's own duration), interleaved. A block
re-rendered whole on every update costs time and bytes in proportion to the square of
its length; grown by pieces, both stay in proportion to the reply.

The 50 MB reply is a fenced JSON array of records read by ``%%llm -f json -o data``: its
rate is MB of reply a second, and its memory the kernel's peak resident size above what it
held before the cell (Linux resets the peak through ``/proc/PID/clear_refs``), which counts
everything the cell keeps (``_llm.content`` and the parsed object) and everything it drops.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from . import _cells
from ._harness import MODEL, Context, Kernel, emulator_header, median
from ._report import Row, seconds, size
from .streaming import measure

# Emulator tokens: a table row is about 8, a JSON item about 7.6 (4 characters each).
FULL = dict(table=32_000, json=52_700, rounds=2)
QUICK = dict(table=800, json=1_300, rounds=1)
#: The big JSON reply: emulator tokens (a 130-byte record is about 33) and tokens a chunk.
#: 256 tokens a chunk: a server streaming in steps of 256 tokens (vLLM's and SGLang's stream interval).
BIG = dict(full=12_500_000, quick=125_000, chunk_tokens=256, rounds=3)
BIG_CELL = f"%%llm -m {MODEL} -f json -o data\nGive me the sales data as JSON.\n"
BIG_READBACK = ("dict(content=len(_llm.content.encode()), kind=type(data).__name__, n=len(data), "
                "last=data[-1]['id'], first=data[0]['id'], complete=_llm.complete, ttft=_llm.ttft, "
                "parsed=_object_bytes(data))")
# The parsed object's own bytes: each container and each value it alone holds. Keys are
# left out (the decoder shares one string per key), and so are the shared singletons.
OBJECT_BYTES = """
import sys as _sys
def _object_bytes(value):
    if value is None or isinstance(value, bool) or (type(value) is int and -5 <= value <= 256):
        return 0
    if isinstance(value, dict):
        return _sys.getsizeof(value) + sum(_object_bytes(v) for v in value.values())
    if isinstance(value, list):
        return _sys.getsizeof(value) + sum(_object_bytes(v) for v in value)
    return _sys.getsizeof(value)
"""
SHAPES = (("table", "a Markdown table of 4,000 rows", "table"), ("json", "a 200 KB one-line JSON reply", "json-line"))


def collect(ctx: Context) -> dict:
    sizes = QUICK if ctx.quick else FULL
    out = {}
    for key, _, shape in SHAPES:
        runs = {"ours": [], "quiet": []}
        for _ in range(sizes["rounds"]):
            for approach in runs:
                runs[approach].append(measure(ctx, approach, 0, sizes[key], 0, 300.0, shape=shape))
        out[key] = runs
    out["big"] = [measure_big(ctx, BIG["quick" if ctx.quick else "full"]) for _ in range(1 if ctx.quick else BIG["rounds"])]
    return out


@dataclass
class BigJson:
    """One big ``-f json`` reply read into ``data`` in a real kernel."""

    reply_bytes: int
    records: int
    whole: bool  # the parsed list holds every record, first to last
    wall: float
    cpu: float
    wire_bytes: int
    peak: int  # the kernel's peak resident bytes during the cell, above its size before
    kept: int  # resident bytes after the cell, above its size before
    parsed: int  # the parsed object's own bytes (containers and the values it alone holds)
    ttft: float  # the server's time to the first token, as the Reply reports it
    load: float  # the 1-minute load average as the run ended


def measure_big(ctx: Context, tokens: int) -> BigJson:
    """One big reply in a fresh kernel: in a used one, memory the last run freed but kept
    would be reused, and the peak above the kernel's size before the cell would read low."""
    kernel = Kernel(ctx.kernel_env, name="big-json")
    try:
        kernel.check(_cells.OURS_SETUP + OBJECT_BYTES + _cells.ours_headers(_headers(2000)))
        kernel.check(BIG_CELL)  # a small reply first: the imports and the connection are not measured
        kernel.check(_cells.ours_headers(_headers(tokens)) + "\ndata = _llm = None")
        status = Path(f"/proc/{kernel.pid}/status")
        before = _status_kb(status, "VmRSS")
        Path(f"/proc/{kernel.pid}/clear_refs").write_text("5")  # the peak restarts from the current size
        cell = kernel.check(BIG_CELL, timeout=900)
        peak, after = _status_kb(status, "VmHWM"), _status_kb(status, "VmRSS")
        result = kernel.value(BIG_READBACK)
    finally:
        kernel.shutdown()
    return BigJson(reply_bytes=result["content"], records=result["n"],
                   whole=result["complete"] and result["kind"] == "list" and result["first"] == 1
                   and result["last"] == result["n"], wall=cell.wall, cpu=cell.cpu, wire_bytes=cell.wire_bytes,
                   peak=(peak - before) * 1024, kept=(after - before) * 1024, parsed=result["parsed"],
                   ttft=result["ttft"] or 0.0, load=os.getloadavg()[0])


def _headers(tokens: int) -> dict:
    headers = emulator_header(tokens, 0, 0, shape="json-records")
    headers["X-Emulator"] += f"; chunk_tokens={BIG['chunk_tokens']}"
    return headers


def _status_kb(path: Path, field: str) -> int:
    for line in path.read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"no {field} in {path}")


def rows(data: dict) -> list[Row]:
    out = []
    for key, label, _ in SHAPES:
        ours, quiet = data[key]["ours"], data[key]["quiet"]
        wall, floor = median([s.wall for s in ours]), median([s.wall for s in quiet])
        reply = median([s.reply_bytes for s in ours])
        sent = median([s.wire_bytes for s in ours])
        out.append(Row(f"`%%llm` wall time, {label}, full speed (baseline: the raw SDK loop reading the same "
                       f"stream, no display)", seconds(wall), seconds(floor), wall / floor, "≤ 2x", wall <= 2 * floor))
        out.append(Row(f"Bytes to front end, live view + final outputs, {label}, full speed (baseline column: the "
                       f"reply)", f"{size(sent)} ({sent / reply:.2f}x reply)", size(reply), sent / reply,
                       "≤ 2x reply", sent <= 2 * reply))
    return out + _big_rows(data["big"])


def _big_rows(runs: list[BigJson]) -> list[Row]:
    reply = median([r.reply_bytes for r in runs])
    label = f"a {size(reply)} `-f json` reply read into `-o data`, full speed"
    rate = median([r.reply_bytes / r.wall for r in runs])
    cpu = median([r.reply_bytes / r.cpu for r in runs])
    peak, kept = median([r.peak for r in runs]), median([r.kept for r in runs])
    parsed = median([r.parsed for r in runs])
    sent = median([r.wire_bytes for r in runs])
    whole = sum(r.whole for r in runs)
    return [
        Row(f"Reply read per second of the cell, {label} (baseline column: the reply)", f"{rate / 1e6:.2f} MB/s",
            size(reply), None, "≥ 5 MB/s", rate >= 5e6),
        Row(f"Reply read per second of kernel CPU, {label}", f"{cpu / 1e6:.2f} MB/s", size(reply), None, "–", None),
        Row(f"Kernel's peak memory above its size before the cell, {label} (baseline column: what the cell keeps, "
            f"`_llm.content` and the parsed object)", f"{size(peak)} ({peak / reply:.2f}x reply)",
            f"{size(kept)} ({kept / reply:.2f}x reply)", peak / kept,
            "– (the parsed records alone are the next row's baseline: see the method)", None),
        Row(f"Kernel's peak memory less the parsed object, {label} (baseline column: the parsed object's own bytes)",
            f"{size(peak - parsed)} ({(peak - parsed) / reply:.2f}x reply)",
            f"{size(parsed)} ({parsed / reply:.2f}x reply)", None, "≤ 4x reply", peak - parsed <= 4 * reply),
        Row(f"Bytes to front end, live view + final outputs, {label} (baseline column: the reply)",
            f"{size(sent)} ({sent / reply:.4f}x reply)", size(reply), sent / reply, "≤ 2x reply", sent <= 2 * reply),
        Row(f"The parsed object holds every record, {label}", f"{whole}/{len(runs)} runs", "–", None, "all runs",
            whole == len(runs)),
    ]


def notes(data: dict) -> list[str]:
    out = []
    for key, label, _ in SHAPES:
        ours = data[key]["ours"]
        out.append(f"{label}: runs of `%%llm` " + ", ".join(f"{s.wall:.2f} s / {size(s.wire_bytes)} "
                   f"(live {size(s.live_bytes)}), kernel CPU {s.cpu:.2f} s" for s in ours)
                   + "; raw SDK loop " + ", ".join(f"{s.wall:.2f} s" for s in data[key]["quiet"]))
    runs = data["big"]
    out.append(f"`-f json` reply of {size(runs[0].reply_bytes)} ({runs[0].records:,} records, "
               f"{BIG['chunk_tokens']} tokens a chunk): runs of " + ", ".join(
                   f"{r.wall:.2f} s ({r.ttft:.2f} s of it the emulator's time to first token), kernel CPU {r.cpu:.2f} s, "
                   f"peak {size(r.peak)}, kept {size(r.kept)}, load {r.load:.2f}" for r in runs))
    return out
