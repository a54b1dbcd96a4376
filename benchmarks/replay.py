"""Replay: a notebook of 50 ``%%llm`` cells answered from its cassette vs live from the emulator.

The same notebook runs in a fresh kernel (nbclient, as nbval and ``jupyter-llm record``
do) three ways: recorded once against the emulator process, then live again and replayed,
interleaved. Timed: from the first cell's start to the last cell's end (kernel start-up
excluded; it is the same for both). The replay runs with the gateway URL pointing at a
closed port, so any request that slipped past the cassette would fail the run.
``python -m benchmarks.replay`` runs only this benchmark and prints its rows.
"""
from __future__ import annotations

import re
import socket
import sys
import time
from pathlib import Path

from ._harness import FAKE_KEY, MODEL, Context, emulator_header, interleave, median
from ._report import Row, seconds

FULL = dict(cells=50, repeats=3, answer=240, reasoning=60)
QUICK = dict(cells=5, repeats=1, answer=40, reasoning=10)
GOAL = 3.0
_VOLATILE = re.compile(r"\d+(\.\d+)? s\b|[\d,]+ tokens/s|http://127\.0\.0\.1:\d+|\((record|replay) mode\)")


def _notebook(path: Path, sizes: dict) -> None:
    import nbformat

    code = nbformat.v4.new_code_cell
    headers = emulator_header(answer=sizes["answer"], reasoning=sizes["reasoning"], rate=0)
    cells = [code(f"%load_ext jupyter_llm\nimport jupyter_llm\njupyter_llm.session.extra_headers = {headers!r}")]
    cells += [code(f"%%llm -m {MODEL}\nQuestion {i}: how would you check column {i} of the data for outliers?")
              for i in range(sizes["cells"])]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def _run(path: Path, env: dict) -> tuple[float, list[str]]:
    """Execute the notebook; (seconds from first cell start to last cell end, the outputs' text)."""
    import nbclient
    import nbformat

    nb = nbformat.read(path, as_version=4)
    marks: list[float] = []
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", record_timing=False,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_start=lambda **_: marks.append(time.perf_counter()) if not marks else None,
        on_cell_executed=lambda **_: marks.append(time.perf_counter()),
    )
    client.execute(env=env)
    texts = []
    for cell in nb.cells:
        for output in cell.outputs:
            if output.output_type == "error":
                raise RuntimeError(f"a cell failed: {output.ename}: {output.evalue}")
            text = output.get("text") or output.get("data", {}).get("text/plain", "")
            texts.append(_VOLATILE.sub("…", text))
    return marks[-1] - marks[0], texts


def _closed_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def collect(ctx: Context) -> dict:
    sizes = QUICK if ctx.quick else FULL
    path = ctx.tmp / "replay-bench.ipynb"
    tape = ctx.tmp / "replay-bench.llm.jsonl"
    _notebook(path, sizes)
    env = dict(ctx.env, JUPYTER_LLM_BASE_URL=ctx.emulator.url, JUPYTER_LLM_API_KEY=FAKE_KEY,
               JUPYTER_LLM_CASSETTE=str(tape))
    recording, recorded = _run(path, dict(env, JUPYTER_LLM_CASSETTE_MODE="record"))
    live_env = dict(env, JUPYTER_LLM_CASSETTE_MODE="off")
    replay_env = dict(env, JUPYTER_LLM_CASSETTE_MODE="replay", JUPYTER_LLM_BASE_URL=_closed_url())
    same = []

    def replay():
        took, texts = _run(path, replay_env)
        same.append(texts == recorded)
        return took

    results = interleave({"replay": replay, "live": lambda: _run(path, live_env)[0]}, sizes["repeats"], warmup=0)
    return dict(sizes=sizes, recording=recording, same=same, cassette_bytes=tape.stat().st_size, **results)


def rows(data: dict) -> list[Row]:
    sizes, n = data["sizes"], len(data["replay"])
    ours, base = median(data["replay"]), median(data["live"])
    tokens = sizes["answer"] + sizes["reasoning"]
    return [Row(
        f"Replaying a notebook of {sizes['cells']} `%%llm` cells ({tokens:,}-token replies) from its cassette, "
        f"first cell start to last cell end (median of {n}; baseline: the same notebook live against the "
        f"emulator at full speed)",
        seconds(ours), seconds(base), ours / base, f"< {GOAL:g} s total", ours < GOAL,
    )]


def notes(data: dict) -> list[str]:
    sizes = data["sizes"]
    return [
        f"Replay: {sizes['cells']} cells; runs (s) replay {', '.join(f'{t:.2f}' for t in data['replay'])}; live "
        f"{', '.join(f'{t:.2f}' for t in data['live'])}; the recording run itself {data['recording']:.2f} s; "
        f"cassette {data['cassette_bytes']:,} bytes; replayed outputs identical to the recorded ones (timings "
        f"masked): {sum(data['same'])}/{len(data['same'])} runs",
    ]


def main(argv: list[str] | None = None) -> int:
    from . import _report

    quick = "--quick" in (argv if argv is not None else sys.argv[1:])
    ctx = Context(quick=quick)
    try:
        data = collect(ctx)
    finally:
        ctx.close()
    print(_report.markdown(rows(data), header="", sections=[("Notes from this run", notes(data))]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
