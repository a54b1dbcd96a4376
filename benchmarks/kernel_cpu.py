"""Kernel CPU per token: ``%%llm`` with its display vs the raw SDK loop that shows nothing.

CPU is the kernel process's utime + stime from /proc (every thread, so the iopub thread
that serialises and sends display updates is counted), read before the cell is sent and
after the kernel reports idle. The runs are those of ``streaming.collect``: ``%%llm`` and
the quiet loop alternate in the same rounds.
"""
from __future__ import annotations

from ._harness import median
from ._report import Row


def rows(data: dict) -> list[Row]:
    sizes = data["sizes"]
    out = []
    for rate, runs in data["runs"].items():
        ours = median([s.cpu / s.tokens for s in runs["ours"]])
        quiet = median([s.cpu / s.tokens for s in runs["quiet"]])
        speed = "full speed" if rate == 0 else f"{rate:,.0f} tok/s"
        out.append(Row(
            f"Kernel CPU per token ({sizes['reasoning'] + sizes['answer']:,} tokens, {speed}; "
            f"baseline: raw SDK loop, no display)",
            f"{ours * 1e6:.0f} µs", f"{quiet * 1e6:.0f} µs", ours / quiet, "≤ 2x", ours / quiet <= 2,
        ))
    return out


def notes(data: dict) -> list[str]:
    out = []
    for rate, runs in data["runs"].items():
        speed = "full speed" if rate == 0 else f"{rate:,.0f} tok/s"
        naive = runs["naive"][0]
        out.append(f"Kernel CPU per token, {speed}: the usual approach (re-display every token) used "
                   f"{naive.cpu / max(naive.tokens, 1) * 1e6:,.0f} µs (one run); runs of jupyter-llm: "
                   + ", ".join(f"{s.cpu:.2f} s" for s in runs["ours"]) + "; quiet loop: "
                   + ", ".join(f"{s.cpu:.2f} s" for s in runs["quiet"]))
    return out
