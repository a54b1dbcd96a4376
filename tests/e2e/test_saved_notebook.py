"""A notebook that streams a reply, saved by nbclient, re-runs clean under nbval.

nbval compares the first ``display_data`` of each output with the saved one (updates
applied): the live view must save as an empty text output, the final outputs as shown.
"""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

CELL = '''
import itertools
from jupyter_llm.display.renderer import ReplyRenderer
from jupyter_llm.core.events import ContentDelta, Finished, ReasoningDelta, Usage, UsageReport
from jupyter_llm.core.reply import Reply

ticks = itertools.count()
renderer = ReplyRenderer(interval=0.05, clock=lambda: next(ticks) * 0.01)
renderer.start(model="qwq-32b")
reasoning = "".join(f"Step {i}: the **mean** of column {i} is what we need.\\n\\n" for i in range(40))
answer = "## Result\\n\\n" + "".join(f"- column {i}: `df[{i}].mean()` <b>\\n" for i in range(60))
answer += "\\n```python\\nprint('<script>')\\n```\\n"
reasoning = [word + " " for word in reasoning.split(" ")]
answer = [word + " " for word in answer.split(" ")]
for text in reasoning:
    renderer.on_event(ReasoningDelta(text))
for text in answer:
    renderer.on_event(ContentDelta(text))
renderer.on_event(UsageReport(Usage(10, 500, 510)))
renderer.on_event(Finished("stop"))
reply = Reply(content="".join(answer), reasoning="".join(reasoning), finish_reason="stop",
              usage=Usage(10, 500, 510), model="qwq-32b", ttft=0.5, elapsed=4.0)
renderer.finish(reply)
'''


def test_saved_notebook_shows_the_reply_and_passes_nbval(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    # The kernels that nbclient and nbval start inherit it.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(CELL)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    resources = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources=resources).execute()
    path = tmp_path / "reply.ipynb"
    nbformat.write(notebook, path)
    if os.environ.get("KEEP_NB"):
        nbformat.write(notebook, os.environ["KEEP_NB"])

    outputs = notebook.cells[0].outputs
    assert [sorted(o.data) for o in outputs] == [
        ["text/plain"],
        ["text/html", "text/plain"],
        ["text/markdown", "text/plain"],
        ["text/html", "text/plain"],
    ]
    live, reasoning, answer, usage = outputs
    assert live.data == {"text/plain": ""}
    assert re.match('<details style="[^"]*"><summary style="[^"]*">Reasoning · ', reasoning.data["text/html"])
    assert "&lt;b>" in answer.data["text/markdown"] and "print('<script>')" in answer.data["text/markdown"]
    assert usage.data["text/plain"].startswith("qwq-32b · 10 → 500 tokens")

    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", str(path), "-q",
         "-p", "no:cacheprovider", "-o", "addopts="],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
