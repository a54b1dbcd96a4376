"""RESULTS.md and streaming.png from one run's measurements (nothing here is typed in)."""
from __future__ import annotations

import os
import platform
import subprocess
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path


@dataclass
class Row:
    """One line of the results table; ``ratio`` is jupyter-llm / baseline."""

    metric: str
    ours: str
    baseline: str
    ratio: float | None
    goal: str
    met: bool | None


def size(n: float) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("KB", 1e3)):
        if n >= scale:
            return f"{n / scale:.3g} {unit}"
    return f"{n:.0f} B"


def seconds(s: float) -> str:
    return f"{s * 1000:.1f} ms" if s < 1 else f"{s:.2f} s"


def ratio_text(ratio: float | None) -> str:
    if ratio is None:
        return "–"
    return f"{ratio:.3g}x" if ratio >= 0.01 else f"1/{1 / ratio:,.0f}"


def machine(jupyter_ai: str | None) -> str:
    """Cores, CPU, Python and the versions of what was measured."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = [f"Python {platform.python_version()}"]
    for name in ("jupyter-llm", "openai", "ipykernel", "ipywidgets", "jupyter_client", "ipython"):
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    if jupyter_ai:
        versions.append(f"jupyter-ai-magics {jupyter_ai} (own venv)")
    return f"{os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}; " + ", ".join(versions)


def markdown(rows: list[Row], *, header: str, sections: list[tuple[str, list[str]]]) -> str:
    lines = [header, "", "| metric | jupyter-llm | baseline | ratio | goal | met |", "|---|---|---|---|---|---|"]
    for row in rows:
        met = "–" if row.met is None else ("yes" if row.met else "**no**")
        lines.append(f"| {row.metric} | {row.ours} | {row.baseline} | {ratio_text(row.ratio)} | {row.goal} | {met} |")
    for title, items in sections:
        if items:
            lines += ["", f"## {title}", ""] + [f"- {item}" for item in items]
    return "\n".join(lines) + "\n"


def title(quick: bool, elapsed: float) -> str:
    mode = "quick smoke run (tiny sizes: numbers are not meaningful)" if quick else "full run"
    commit = _commit()
    return (
        "# jupyter-llm benchmarks\n\n"
        f"Written by `make bench` (`python -m benchmarks{' --quick' if quick else ''}`), {mode}, "
        f"on {time.strftime('%Y-%m-%d %H:%M %Z')}{commit}, in {elapsed:.0f} s.\n"
        "Timings are medians of interleaved runs (A B A B ...); a ratio is jupyter-llm divided "
        "by the baseline measured in the same run (below 1 means jupyter-llm is smaller or faster)."
    )


def _commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                             cwd=Path(__file__).parent, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return f" at commit {out.stdout.strip()}" if out.returncode == 0 and out.stdout.strip() else ""


def plot(curve: dict[str, list], path: Path, *, pace: float) -> None:
    """Bytes, messages and peak message rate against reply length, ours vs the usual approach."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = {"ours": "jupyter-llm %%llm", "naive": "usual approach (re-display every token)"}
    styles = {"ours": dict(color="tab:blue", marker="o"), "naive": dict(color="tab:red", marker="s")}
    fig, axes = plt.subplots(1, 3, figsize=(16, 5))
    for name, samples in curve.items():
        tokens = [s.tokens for s in samples]
        axes[0].plot(tokens, [s.wire_bytes for s in samples], label=labels[name], **styles[name])
        axes[1].plot(tokens, [s.messages for s in samples], label=labels[name], **styles[name])
        axes[2].plot(tokens, [s.peak_updates for s in samples], label=f"{labels[name]}: updates", **styles[name])
        axes[2].plot(tokens, [s.peak_rate for s in samples], label=f"{labels[name]}: all messages",
                     linestyle="--", alpha=0.5, **styles[name])
    reference = curve["ours"]
    tokens = [s.tokens for s in reference]
    reply = [s.reply_bytes for s in reference]
    axes[0].plot(tokens, reply, color="grey", linestyle=":", label="the reply itself (UTF-8)")
    axes[0].plot(tokens, [3 * r for r in reply], color="green", linestyle="--", label="goal: 3x the reply")
    axes[2].axhline(20, color="green", linestyle="--", label="goal: 20 updates per second")
    axes[2].axhline(1000, color="black", linestyle=":", label="jupyter_server drops above 1000/s")
    titles = ("Bytes sent to the front end (whole messages)", "iopub messages for the cell",
              "Peak per second (any 1 s window)")
    ylabels = ("bytes", "messages", "messages / s")
    for ax, heading, ylabel in zip(axes, titles, ylabels):
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_title(heading)
        ax.set_xlabel("reply length (tokens: 1/6 reasoning, 5/6 answer)")
        ax.set_ylabel(ylabel)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=8, loc="upper left")
    low = min(s.peak_updates for samples in curve.values() for s in samples)
    axes[2].set_ylim(max(low / 2, 0.5), 40000)  # headroom above the 1000/s line for the legend
    fig.suptitle(f"Streaming a reply into a notebook, paced at {pace:,.0f} tokens/s from the emulator, real kernel")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
