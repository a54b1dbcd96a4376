"""One block that keeps growing: a 4,000-row Markdown table, a 200 KB one-line JSON reply.

Each is streamed at full speed by the emulator into ``%%llm`` in a real kernel, and read
by the raw SDK loop that shows nothing (the stream's own duration), interleaved. A block
re-rendered whole on every update costs time and bytes in proportion to the square of
its length; grown by pieces, both stay in proportion to the reply.
"""
from __future__ import annotations

from ._harness import Context, median
from ._report import Row, seconds, size
from .streaming import measure

# Emulator tokens: a table row is about 8, a JSON item about 7.6 (4 characters each).
FULL = dict(table=32_000, json=52_700, rounds=2)
QUICK = dict(table=800, json=1_300, rounds=1)
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
    return out


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
    return out


def notes(data: dict) -> list[str]:
    out = []
    for key, label, _ in SHAPES:
        ours = data[key]["ours"]
        out.append(f"{label}: runs of `%%llm` " + ", ".join(f"{s.wall:.2f} s / {size(s.wire_bytes)} "
                   f"(live {size(s.live_bytes)}), kernel CPU {s.cpu:.2f} s" for s in ours)
                   + "; raw SDK loop " + ", ".join(f"{s.wall:.2f} s" for s in data[key]["quiet"]))
    return out
