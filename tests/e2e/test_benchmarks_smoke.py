"""The benchmark harness still runs end to end (tiny sizes; it measures nothing here)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.timeout(300)
def test_quick_benchmark_run_writes_every_row(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_"))}
    run = subprocess.run([sys.executable, "-m", "benchmarks", "--quick", "--out", str(tmp_path)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=280)
    assert run.returncode == 0, run.stderr[-3000:]
    results = (tmp_path / "RESULTS.md").read_text()
    for row in ("`%load_ext` time", "Bytes to front end", "Updates/s", "Final outputs hold",
                "time to first token", "with `budget_tokens` set", "Kernel CPU per token", "Replaying a notebook of",
                "`map()` wall time", "rows lost", "Compare panel client CPU"):
        assert row in results, row
    assert (tmp_path / "streaming.png").stat().st_size > 10_000
