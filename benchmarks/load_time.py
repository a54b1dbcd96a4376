"""``%load_ext jupyter_llm`` time: a fresh process each time, only the load is timed.

Baseline: jupyter-ai's magics (``%load_ext jupyter_ai_magics``, 2.x) from their own venv
(``benchmarks/.venv-jupyter-ai``, installed once and kept); when that cannot be
installed, a bare ``import openai`` timed the same way.
"""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ._harness import Context, interleave, median
from ._report import Row, seconds

FULL = dict(repeats=9)
QUICK = dict(repeats=3)
VENV = Path(__file__).resolve().parent / ".venv-jupyter-ai"
READY = VENV / ".ready"  # written only after an install whose import check passed
INSTALL_TIMEOUT = 300
REQUIREMENT = "jupyter-ai-magics>=2,<3"

# The shell is made first and not timed: a notebook has one before %load_ext runs.
_SCRIPT = """
import time
from IPython.core.interactiveshell import InteractiveShell
shell = InteractiveShell.instance()
start = time.perf_counter()
{action}
print("ELAPSED", time.perf_counter() - start)
"""
_LOAD = 'shell.run_line_magic("load_ext", {name!r})'


def jupyter_ai(ctx: Context) -> tuple[Path | None, str]:
    """The jupyter-ai venv's python, installing it once if needed; else (None, why not)."""
    python = VENV / "bin" / "python"
    if READY.exists() and python.exists():
        return python, ""
    if ctx.quick:
        return None, "jupyter-ai-magics venv not built yet (the quick run does not install it)"
    try:
        subprocess.run([sys.executable, "-m", "venv", "--clear", str(VENV)],
                       check=True, capture_output=True, timeout=120)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", REQUIREMENT],
                       check=True, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, env=ctx.env)
        subprocess.run([str(python), "-c", "import jupyter_ai_magics"], check=True, capture_output=True,
                       timeout=120, env=ctx.env)
    except subprocess.TimeoutExpired:
        return None, f"`pip install '{REQUIREMENT}'` did not finish within {INSTALL_TIMEOUT} s"
    except subprocess.CalledProcessError as exc:
        tail = (exc.stderr or "").strip().splitlines()[-1:] if isinstance(exc.stderr, str) else []
        return None, f"`pip install '{REQUIREMENT}'` failed" + (f": {tail[0][:200]}" if tail else "")
    READY.write_text(REQUIREMENT + "\n")
    return python, ""


def _timer(ctx: Context, python: Path | str, action: str):
    code = _SCRIPT.format(action=action)

    def run() -> float:
        done = subprocess.run([str(python), "-c", code], capture_output=True, text=True, env=ctx.env, timeout=120)
        lines = [line for line in done.stdout.splitlines() if line.startswith("ELAPSED ")]
        if done.returncode or not lines:
            raise RuntimeError(f"{action} failed in {python}: {done.stderr.strip()[-1500:]}")
        return float(lines[-1].split()[1])

    return run


def version(python: Path) -> str:
    code = "from importlib.metadata import version; print(version('jupyter-ai-magics'))"
    return subprocess.run([str(python), "-c", code], capture_output=True, text=True, timeout=60).stdout.strip()


def collect(ctx: Context) -> dict:
    python, why = jupyter_ai(ctx)
    ours = _timer(ctx, sys.executable, _LOAD.format(name="jupyter_llm"))
    if python is not None:
        baseline, label = _timer(ctx, python, _LOAD.format(name="jupyter_ai_magics")), "jupyter-ai"
        try:
            baseline()
        except RuntimeError as exc:
            python, why = None, f"`%load_ext jupyter_ai_magics` failed ({str(exc)[-200:]})"
    if python is None:
        baseline, label = _timer(ctx, sys.executable, "import openai"), "import openai"
    repeats = (QUICK if ctx.quick else FULL)["repeats"]
    results = interleave({"ours": ours, "baseline": baseline}, repeats)
    return {"ours": results["ours"], "baseline": results["baseline"], "label": label, "why": why,
            "jupyter_ai": version(python) if python else None}


def rows(data: dict) -> list[Row]:
    ours, base = median(data["ours"]), median(data["baseline"])
    n = len(data["ours"])
    if data["label"] == "jupyter-ai":
        return [Row(f"`%load_ext` time, fresh process (median of {n}; baseline: `%load_ext jupyter_ai_magics`)",
                    seconds(ours), seconds(base), ours / base, "≤ 0.15 s and ≥ 5x faster (ratio ≤ 0.2)",
                    ours <= 0.15 and ours / base <= 0.2)]
    return [Row(f"`%load_ext` time, fresh process (median of {n}; baseline: bare `import openai`)",
                seconds(ours), seconds(base), ours / base, "≤ 0.15 s (jupyter-ai not measured)", ours <= 0.15)]


def notes(data: dict) -> list[str]:
    out = []
    if data["why"]:
        out.append(f"Load-time baseline is a bare `import openai`, not jupyter-ai: {data['why']}.")
    out.append("`%load_ext` runs (s): jupyter-llm " + ", ".join(f"{t:.3f}" for t in data["ours"])
               + f"; {data['label']} " + ", ".join(f"{t:.3f}" for t in data["baseline"]))
    return out
