"""A ``%%llm`` reply as a user sees it stream: one live widget, in JupyterLab and in Notebook 7.

The page is sampled every 25 ms while the reply streams: the text must grow in many
steps, the reasoning must be open while the model thinks and folded once it answers, and
the live widget must give way to the plain outputs at the end. Screenshots go to
artifacts/browser/.
"""
from __future__ import annotations

import pytest
from lab_fixtures import (browser, cells, kernel_state, lab, lab_root, notebook7, open_notebook, page,  # noqa: F401
                          run_cell, shoot, shown_words, words, write_notebook)

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
# A long reply as fast as a good gateway sends it, then the whole answer as the kernel holds it.
FAST = ("%load_ext jupyter_llm\nimport jupyter_llm\njupyter_llm.session.extra_headers = "
        "{'X-Emulator': 'rate=2000; reasoning_tokens=1000; answer_tokens=12000'}")
PRINT_ANSWER = "print(_llm.content)"
LONG_TASKS = """() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) window.__longTasks.push(e.duration);
  }).observe({type: 'longtask'});
}"""
ENDS_WITH = """([element, tail]) =>
  (element.textContent.match(/[\\p{L}\\p{N}_]+/gu) || []).slice(-tail.length).join(' ') === tail.join(' ')"""
#: Far above the 100 ms goal that `make bench` measures (a 2-core machine under load stretches a 150 ms
#: task past a second of wall time), far below a page that re-renders the whole reply per update.
FROZEN_MS = 3000


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


def test_a_long_fast_reply_ends_whole_and_the_page_never_freezes(page, lab, lab_root):
    name = write_notebook(lab_root, "fast.ipynb", FAST, CELL, PRINT_ANSWER)
    open_notebook(page, lab, name)
    _run_first(page)
    page.evaluate(LONG_TASKS)
    run_cell(page, 1)
    page.wait_for_function("() => document.querySelector('.jllm-live')", timeout=60_000, polling=50)
    output = cells(page).nth(1).locator(".jp-OutputArea")
    output.locator(".jp-OutputArea-output", has_text="tokens").last.wait_for(timeout=60_000)
    kernel_state(page, "idle")
    assert page.locator(".jllm-live").count() == 0, "the live widget gave way to the final outputs"
    run_cell(page, 2)
    # The printed answer comes in several stream messages: read it once the kernel is done.
    cells(page).nth(2).locator(".jp-InputPrompt").filter(has_text="[3]").wait_for(timeout=60_000)
    kernel_state(page, "idle")
    answer = cells(page).nth(2).locator(".jp-OutputArea-output").first.inner_text()
    assert len(shown_words(answer)) > 3000
    # Lab renders Markdown asynchronously: the answer may land after the usage line below it.
    markdown = output.locator(".jp-OutputArea-output.jp-RenderedMarkdown")
    page.wait_for_function(ENDS_WITH, arg=[markdown.last.element_handle(), shown_words(answer)[-8:]], timeout=30_000)
    # A long answer comes as several Markdown outputs, one after the other: together they hold it, in order.
    assert markdown.count() > 1, "a long answer is cut into parts, each rendered on its own"
    shown = " ".join(words(" ".join(markdown.all_inner_texts())))
    assert " ".join(shown_words(answer)) in shown, "the whole answer is shown, in order"
    tasks = page.evaluate("() => window.__longTasks")
    assert max(tasks, default=0) < FROZEN_MS, f"the page froze: long tasks of {sorted(tasks)[-5:]} ms"
