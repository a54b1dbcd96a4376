"""``python -m benchmarks [--quick] [--out DIR] [--only NAME ...]``: run the benchmarks, write RESULTS.md and the plot.

The full run writes ``benchmarks/RESULTS.md`` and ``benchmarks/streaming.png``; ``--quick``
runs the same code on tiny replies (a harness check, < 1 minute) and writes to a temporary
directory unless ``--out`` says otherwise, as does ``--only NAME`` (repeatable), which runs only the benchmarks named.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

from . import (_report, batch, browser, embeddings, growing, kernel_cpu, load_time, overhead, provenance, replay,
               streaming)
from ._harness import Context

HERE = Path(__file__).resolve().parent

METHOD = [
    "Every number above comes from this run; the emulator (`python -m jupyter_llm.emulator --port 0`, "
    "127.0.0.1 only) runs in its own process; the API key is a fake one.",
    "Load time: a fresh `python -c` per sample creates an IPython `InteractiveShell`, then times only "
    "`run_line_magic('load_ext', ...)`.",
    "Streaming: real ipykernels started by jupyter_client with this venv's python; iopub is read raw off "
    "ZMQ by a socket of our own, so bytes are counted as sent (whole message: every frame incl. header, "
    "parent header, metadata, signature; payload: `content` + buffers). Counted: every display_data, "
    "update_display_data, stream, execute_result, error, clear_output, comm_open/msg/close of the cell "
    "(status and execute_input are not output). Rates use the kernel's header timestamps; \"updates\" are "
    "the messages that change something already shown (update_display_data, comm_msg), as opposed to "
    "creating or closing a view; the mean is over the cell's first to last output message.",
    "\"Final outputs hold\": all messages are applied as a front end would (display updates replace, "
    "widget state patches merge, closed widgets vanish) and the answer's and reasoning's words must appear "
    "unbroken and in order in the outputs or the widget states (compared with `_llm.content`/`.reasoning` "
    "read back from the kernel).",
    "Usual approach (baseline for streaming): openai SDK in the same kind of kernel; every reasoning token "
    "re-sets an `ipywidgets.HTML` value (in an `Accordion`) to all reasoning so far, every answer token calls "
    "`display(Markdown(all_text_so_far), display_id=...)` update. Not throttled. It runs once per speed and "
    "size (its bytes are fixed by the reply; a run takes tens of seconds); jupyter-llm runs several times "
    "and the median is shown.",
    "Growing blocks: the emulator answers one table (`shape=table`) or one line of JSON (`shape=json-line`) at "
    "full speed; `%%llm` and the raw SDK loop (no display) read it in real kernels, interleaved; bytes as above.",
    "First text: the live widget is created when the first token arrives; its first update message carries the "
    "first text. Both times are the kernel's header timestamps.",
    "Kernel CPU: utime+stime of the kernel process (all threads) from /proc around the cell, divided by the "
    "completion tokens the emulator reported; baseline: the raw SDK loop that only accumulates the text.",
    "Client overhead: same process, interleaved; ask()'s time to first token is measured from the call "
    "(its Reply's ttft shifted to the caller's clock).",
    "Embeddings: each side runs once in a fresh `python` process against the emulator (100,000 texts, "
    "1,024 dims, batches of 64); peak memory is `ru_maxrss` at the end minus `ru_maxrss` after the imports "
    "and the texts, compared with n x d x 4 bytes. The vectors column is a pandas extension array over one "
    "C-contiguous (n, d) float32 block. `similar()`: random float32 vectors, vector queries, after a first "
    "call that computes the row norms.",
    "Replay: a generated notebook (`%load_ext` + 50 `%%llm` cells, each its own prompt) run by nbclient in a "
    "fresh kernel: once to record (`JUPYTER_LLM_CASSETTE_MODE=record`), then live (mode off) and replayed "
    "(mode replay, gateway URL at a closed port) interleaved; timed from the first cell's start to the last "
    "cell's end (kernel start-up excluded); replay outputs compared with the recording's, times masked.",
    "`map()`: in this process against the emulator process, which holds each request for its `latency` "
    "(X-Emulator header) and answers 20 tokens; `session.max_concurrency` is 16 for these runs. Ideal = rows / "
    "concurrency x latency. Baselines: a for-loop of streamed openai SDK requests, one row at a time, and the "
    "same requests from a 16-thread pool. The "
    "ceiling run adds `max_concurrency=8` on the emulator (429 with Retry-After 1 s beyond it). The large run: "
    "5,000 rows with `max_concurrency` and `concurrency` 64, after a warm-up batch of 64 rows that opens the "
    "connections. Client CPU per row: `getrusage(RUSAGE_SELF)` user + system time of this process (every thread) "
    "around each 500-row batch, divided by its rows; the baseline counts the 16-thread SDK pool the same way. "
    "The 1-minute load average is read as each run ends.",
    browser.METHOD,
    "Call log and disk cache: in this process, interleaved on/off runs (`session.log` and `session.cache`: "
    "on = log + disk, off = no log + memory); the log's size is the SQLite file (with its full-text index) "
    "divided by the calls in it. Cached vectors: 100,000 random float32 vectors put in the cache, then read "
    "back by key and stacked into one matrix, against `np.load` of the same matrix (page cache warm for both).",
]


#: Every benchmark, in the order it runs: (name for --only, progress line, module).
BENCHMARKS = [
    ("load", "load time", load_time),
    ("overhead", "client overhead", overhead),
    ("streaming", "streaming display and kernel CPU (real kernels)", streaming),
    ("browser", "streaming in JupyterLab and Notebook 7 (headless Chromium)", browser),
    ("growing", "one growing block: a long table, a long JSON line", growing),
    ("embeddings", "embeddings and similar()", embeddings),
    ("replay", "replaying a notebook from its cassette", replay),
    ("batch", "map() batches", batch),
    ("provenance", "the call log and the disk cache", provenance),
]
#: Rows and notes of one benchmark come from another's data (kernel CPU rides on the streaming runs).
DERIVED = {"streaming": [kernel_cpu]}
#: The order of the notes (as before: load, streaming, growing, kernel CPU, ...).
NOTE_ORDER = ["load", "streaming", "browser", "growing", "kernel_cpu", "embeddings", "replay", "batch", "provenance"]
#: The order of the results table.
ROW_ORDER = ["load", "streaming", "browser", "growing", "overhead", "kernel_cpu", "embeddings", "replay", "batch",
             "provenance"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes: check the harness in < 1 minute")
    parser.add_argument("--out", type=Path, help="where RESULTS.md and streaming.png go")
    parser.add_argument("--only", action="append", choices=[name for name, _, _ in BENCHMARKS], metavar="NAME",
                        help="run only this benchmark (repeatable): " + ", ".join(name for name, _, _ in BENCHMARKS))
    args = parser.parse_args(argv)
    out = args.out or (Path(tempfile.mkdtemp(prefix="jupyter-llm-bench-quick-")) if args.quick or args.only
                       else HERE)
    out.mkdir(parents=True, exist_ok=True)

    began = time.perf_counter()
    ctx = Context(quick=args.quick)
    # This process runs ask() too: it must not pick up a real gateway or the user's config.
    for name in [n for n in os.environ if n.startswith(("JUPYTER_LLM_", "OPENAI_"))]:
        del os.environ[name]
    os.environ["JUPYTER_LLM_CONFIG_FILE"] = ctx.env["JUPYTER_LLM_CONFIG_FILE"]
    os.environ["JUPYTER_LLM_DATA_DIR"] = ctx.env["JUPYTER_LLM_DATA_DIR"]
    data: dict[str, tuple[object, dict]] = {}  # row key -> (module, its data)
    try:
        for name, label, module in BENCHMARKS:
            if args.only and name not in args.only:
                continue
            step(label, began)
            collected = module.collect(ctx)
            data[name] = (module, collected)
            for derived in DERIVED.get(name, []):
                data[derived.__name__.rsplit(".", 1)[1]] = (derived, collected)
    finally:
        ctx.close()
    step("report", began)

    ordered = [data[key] for key in ROW_ORDER if key in data]
    rows = [row for module, collected in ordered for row in module.rows(collected)]
    elapsed = time.perf_counter() - began
    header = "\n".join([
        _report.title(args.quick, elapsed), "",
        f"Machine: {_report.machine(data['load'][1]['jupyter_ai'] if 'load' in data else None)}.",
    ])
    text = _report.markdown(rows, header=header, sections=[
        ("Notes from this run",
         [note for key in NOTE_ORDER if key in data for note in data[key][0].notes(data[key][1])]),
        ("How it is measured", METHOD + (["![streaming](streaming.png)"] if "streaming" in data else [])),
    ])
    (out / "RESULTS.md").write_text(text, encoding="utf-8")
    if "streaming" in data:
        stream = data["streaming"][1]
        _report.plot(stream["curve"], out / "streaming.png", pace=stream["sizes"]["pace"])
    print(text)
    print(f"wrote {out / 'RESULTS.md'} in {elapsed:.0f} s", file=sys.stderr)
    return 0


def step(name: str, began: float) -> None:
    print(f"[{time.perf_counter() - began:6.1f} s] {name}", file=sys.stderr, flush=True)


if __name__ == "__main__":
    raise SystemExit(main())
