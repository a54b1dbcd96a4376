"""A ``%%llm`` reply as a user sees it stream: one live widget, in JupyterLab and in Notebook 7.

The page is sampled every 25 ms while the reply streams: the text must grow in many
steps, the reasoning must be open while the model thinks and folded once it answers, and
the live widget must give way to the plain outputs at the end. Screenshots go to
artifacts/browser/.
"""
from __future__ import annotations

import pytest
from lab_fixtures import (browser, cells, kernel_state, lab, lab_root, notebook7, open_notebook, page,  # noqa: F401
                          run_cell, shoot, write_notebook)

pytestmark = pytest.mark.timeout(240)

SAMPLER = """() => {
  window.__samples = [];
  window.__sampler = setInterval(() => {
    const live = document.querySelector('.jllm-live');
    if (!live) return;
    const reasoning = live.querySelector('details.jllm-live-reasoning');
    window.__samples.push({chars: live.innerText.length, open: !!(reasoning && reasoning.open),
                           rows: live.querySelectorAll('tr').length});
  }, 25);
}"""
STOP = "() => { clearInterval(window.__sampler); return window.__samples; }"
SETUP = ("%load_ext jupyter_llm\nimport jupyter_llm\njupyter_llm.session.extra_headers = "
         "{'X-Emulator': 'rate=400; reasoning_tokens=300; answer_tokens=1500'}")
CELL = "%%llm -m qwq-32b\nExplain how to pick a rolling-window size for a noisy series."


def _run_first(page) -> None:
    run_cell(page, 0)
    cells(page).first.locator(".jp-InputPrompt").filter(has_text="[1]").wait_for(timeout=60_000)
    kernel_state(page, "idle")


def _stream_and_check(page, cell: int, name: str) -> None:
    errors = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.evaluate(SAMPLER)
    run_cell(page, cell)
    page.wait_for_function("() => (document.querySelector('.jllm-live') || {innerText: ''}).innerText.length > 300",
                           timeout=60_000, polling=50)
    page.wait_for_timeout(1500)
    shoot(cells(page).nth(cell), f"{name}-streaming.png")
    output = cells(page).nth(cell).locator(".jp-OutputArea")
    output.locator("details summary", has_text="Reasoning").wait_for(timeout=60_000)
    output.locator(".jp-OutputArea-output", has_text="tokens").last.wait_for(timeout=60_000)
    samples = page.evaluate(STOP)
    shoot(cells(page).nth(cell), f"{name}-final.png")
    growing = sorted({s["chars"] for s in samples})
    assert len(growing) >= 10, growing  # the text appeared in many steps
    assert any(s["open"] for s in samples), "the reasoning was open while the model thought"
    assert not samples[-1]["open"], "and folded once the answer started"
    assert page.locator(".jllm-live").count() == 0  # the live widget gave way to the final outputs
    text = output.inner_text()
    assert "Traceback" not in text and len(text) > 2000
    assert not [e for e in errors if "jupyter-llm" in e or "anywidget" in e], errors


def test_llm_streams_into_one_live_widget_in_jupyterlab(page, lab, lab_root):
    name = write_notebook(lab_root, "live.ipynb", SETUP, CELL)
    open_notebook(page, lab, name)
    _run_first(page)
    _stream_and_check(page, 1, "lab-live")


def test_llm_streams_into_one_live_widget_in_notebook_7(page, notebook7, lab_root):
    name = write_notebook(lab_root, "live7.ipynb", SETUP, CELL)
    open_notebook(page, notebook7, name)
    _run_first(page)
    _stream_and_check(page, 1, "notebook7-live")
