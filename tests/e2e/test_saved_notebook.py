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


# A long answer: sections of prose, a table, a list and code, about 60 KB.
LONG = CELL.replace(
    'answer = "## Result',
    'answer = "".join(f"## Part {i}\\n\\nWords about part {i} and its window size, in a sentence or two.\\n\\n"'
    ' f"| size | noise |\\n|---:|---|\\n| {i} | low |\\n\\n- a point about {i}\\n- another point\\n\\n"'
    ' f"```python\\nprint({i})\\n```\\n\\n" for i in range(500))\nanswer += "## Result')


def _run_and_save(tmp_path, monkeypatch, source: str):
    import nbformat
    from nbclient import NotebookClient

    # The kernels that nbclient and nbval start inherit it.
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(source)])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    resources = {"metadata": {"path": str(tmp_path)}}
    NotebookClient(notebook, timeout=60, kernel_name="python3", resources=resources).execute()
    path = tmp_path / "reply.ipynb"
    nbformat.write(notebook, path)
    if os.environ.get("KEEP_NB"):
        nbformat.write(notebook, os.environ["KEEP_NB"])
    return notebook, path


def _nbval(tmp_path, path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "--nbval", str(path), "-q",
         "-p", "no:cacheprovider", "-o", "addopts="],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]


def test_a_long_answer_saves_as_consecutive_markdown_outputs_that_hold_it_whole(tmp_path, monkeypatch):
    notebook, path = _run_and_save(tmp_path, monkeypatch, LONG)
    outputs = notebook.cells[0].outputs
    live, reasoning, *answer, usage = outputs
    assert live.data == {"text/plain": ""} and usage.data["text/plain"].startswith("qwq-32b")
    assert len(answer) > 1, "a long answer is shown in parts"
    assert all("text/markdown" in part.data for part in answer)
    # A plain-text reader sees one preview of the whole answer, not one per part.
    assert [sorted(part.data) for part in answer[1:]] == [["text/markdown"]] * (len(answer) - 1)
    assert "more characters in the rich output" in answer[0].data["text/plain"]
    markdown = "".join(part.data["text/markdown"] for part in answer)
    assert markdown.startswith("## Part 0\n") and markdown.index("## Part 250\n") < markdown.index("## Result")
    assert all(part.data["text/markdown"].count("```") % 2 == 0 for part in answer), "no code block is cut"
    assert markdown.count("## Part ") == 500 and "print('<script>')" in markdown
    _nbval(tmp_path, path)


def test_saved_notebook_shows_the_reply_and_passes_nbval(tmp_path, monkeypatch):
    notebook, path = _run_and_save(tmp_path, monkeypatch, CELL)
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

    _nbval(tmp_path, path)
