"""The panels as a user sees them: JupyterLab in headless Chromium, talking to the emulator.

Each test waits for what a user would wait for (text on the screen, a button's state),
never for a fixed time, except to check that something does not change any more.
Screenshots of each panel go to artifacts/browser/ (the README's come from there).
"""
from __future__ import annotations

import shutil
import time

import pytest
from support import TEST_KEY
from lab_fixtures import (NOTEBOOK, ROOT, browser, cells, lab, lab_root, menu, open_and_run_all, open_notebook, page,  # noqa: F401
                          run_cell, shoot, wait_cells_done, write_notebook)

pytestmark = pytest.mark.timeout(240)

# Records, every 25 ms, how much text the last reply of a panel shows and whether its reasoning is open.
SAMPLER = """(selector) => {
  window.__samples = [];
  window.__sampler = setInterval(() => {
    const replies = document.querySelectorAll(selector);
    window.__samples.push([...replies].map(r => ({
      chars: r.innerText.length,
      open: !!r.querySelector('details.jllm-live-reasoning[open]'),
      accordion: !!r.querySelector('details.jllm-live-reasoning:not([hidden])'),
      footer: (r.querySelector('.jllm-footer') || {innerText: ''}).innerText,
    })));
  }, 25);
}"""
STOP_SAMPLER = "() => { clearInterval(window.__sampler); return window.__samples; }"


def test_the_panels_notebook_runs_and_shows_every_panel(page, lab, lab_root):
    shutil.copy(ROOT / "notebooks" / "panels.ipynb", lab_root / "panels.ipynb")
    open_and_run_all(page, lab, "panels.ipynb", clear=True)
    page.wait_for_selector(".jllm-compare table.jllm-summary")
    assert "Traceback" not in page.inner_text(NOTEBOOK)
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count() == 0
    for name in ("settings", "chat", "compare"):
        panel = page.locator(f".jllm-{name}").first
        assert panel.is_visible()
        shoot(panel, f"notebook-{name}.png")


def test_chat_streams_visibly_folds_the_reasoning_and_stop_halts_within_a_second(page, lab, lab_root):
    name = write_notebook(
        lab_root, "chat.ipynb",
        "%load_ext jupyter_llm\nimport jupyter_llm\n"
        "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=100; reasoning_tokens=80; answer_tokens=150'}\n"
        "chat = jupyter_llm.ChatPanel(model='qwq-32b')\nchat",
        "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=100; reasoning_tokens=80; answer_tokens=2000'}",
    )
    open_notebook(page, lab, name)
    run_cell(page, 0)
    prompt = page.locator(".jllm-chat .jllm-prompt input")
    page.evaluate(SAMPLER, ".jllm-chat .jllm-reply")
    prompt.fill("Explain how tides work.")
    prompt.press("Shift+Enter")
    footer = page.locator(".jllm-chat .jllm-reply .jllm-footer").last
    footer.filter(has_text="first token").wait_for(timeout=60_000)
    samples = [s[-1] for s in page.evaluate(STOP_SAMPLER) if s]
    final = samples[-1]
    growing = sorted({s["chars"] for s in samples if s["chars"] and "first token" not in s["footer"]})
    # Text appeared in many steps, not all at once at the end.
    assert len(growing) >= 5, growing
    # The reasoning was open while the model thought, and folded once the answer came.
    assert any(s["open"] for s in samples) and final["accordion"] and not final["open"]
    shoot(page.locator(".jllm-chat"), "chat.png")

    # A second, long reply: Stop ends it within a second and nothing arrives after.
    run_cell(page, 1)
    wait_cells_done(page)
    page.evaluate(SAMPLER, ".jllm-chat .jllm-reply")
    prompt.fill("Now write a long essay about the moon.")
    prompt.press("Enter")
    stop = page.locator(".jllm-chat button:has-text('Stop')")
    page.wait_for_function("() => { const s = window.__samples.at(-1); return s && s.length == 2 && "
                           "s[1].chars > 400 && s[1].footer.includes('answering'); }", timeout=60_000)
    shoot(page.locator(".jllm-chat"), "chat-streaming.png")
    clicked = time.monotonic()
    stop.click()
    footer.filter(has_text="stopped").wait_for(timeout=1000)
    assert time.monotonic() - clicked < 1.5  # the click itself included
    assert stop.is_disabled()
    shown = footer.evaluate("f => f.parentElement.innerText.length")
    page.wait_for_timeout(1000)
    assert footer.evaluate("f => f.parentElement.innerText.length") == shown


def test_compare_fills_every_column_at_once(page, lab, lab_root):
    models = ["qwen3-32b", "qwq-32b", "qwen72b-awq"]
    name = write_notebook(
        lab_root, "compare.ipynb",
        "%load_ext jupyter_llm\nimport jupyter_llm\n"
        "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=120; reasoning_tokens=60; answer_tokens=200'}",
        f"%%llm_compare -m {','.join(models)}\nExplain what a p-value is in two sentences.",
    )
    open_notebook(page, lab, name)
    page.evaluate(SAMPLER, ".jllm-compare .jllm-column")
    open_and_run_all(page, lab, name, navigate=False)
    page.wait_for_selector(".jllm-compare table.jllm-summary", timeout=60_000)
    samples = [s for s in page.evaluate(STOP_SAMPLER) if len(s) == 3]
    columns = page.locator(".jllm-compare .jllm-column")
    assert columns.count() == 3
    finals = [columns.nth(i).inner_text() for i in range(3)]
    for model, text in zip(models, finals):
        assert text.startswith(model) and "tokens/s" in text and len(text) > 300
    # All three were streaming at the same moment.
    assert any(all(0 < c["chars"] < len(f) - 50 for c, f in zip(s, finals)) for s in samples)
    shoot(page.locator(".jllm-compare"), "compare.png")


def test_a_settings_change_reaches_the_next_llm_cell(page, lab, lab_root, emulator):
    name = write_notebook(
        lab_root, "settings.ipynb",
        "%load_ext jupyter_llm\nimport jupyter_llm\njupyter_llm.session.model = 'qwen3-32b'\n"
        "jupyter_llm.session.think = False",
        "%llm_config",
        "%%llm\nSay hello.",
    )
    open_and_run_all(page, lab, name)
    cell = cells(page).nth(2)
    assert "qwen3-32b" in cell.locator(".jp-OutputArea").inner_text()
    settings = page.locator(".jllm-settings")
    model = settings.locator(".widget-text:has(label:text-is('Default model')) input")
    model.fill("qwen72b-awq")
    model.press("Enter")
    temperature = settings.locator(".widget-text:has(label:text-is('Temperature')) input")
    temperature.fill("0.2")
    temperature.press("Enter")
    settings.locator(".widget-html", has_text="temperature = 0.2").wait_for()
    shoot(settings, "settings.png")
    emulator.reset()
    run_cell(page, 2)
    cell.locator(".jp-OutputArea", has_text="qwen72b-awq").wait_for(timeout=60_000)
    wait_cells_done(page)
    body = [r["body"] for r in emulator.requests if r["path"].endswith("/chat/completions")][-1]
    assert (body["model"], body["temperature"]) == ("qwen72b-awq", 0.2)

    # A key typed into the panel is taken, and is then nowhere: not in the page, not in the saved file.
    key = settings.locator("input[type='password']")
    key.fill(TEST_KEY)
    key.press("Enter")
    settings.locator(".widget-html", has_text="API key set (hidden)").wait_for()
    assert key.input_value() == "" and TEST_KEY not in page.content()
    saved = lab_root / name
    before = saved.stat().st_mtime_ns
    menu(page, "File", "Save Notebook")
    page.wait_for_function("() => !document.querySelector('.jp-mod-dirty')", timeout=30_000)
    assert saved.stat().st_mtime_ns != before
    assert TEST_KEY not in saved.read_text() and "JLLM-0123456789" not in saved.read_text()


def test_compare_stop_halts_every_column_and_each_keeps_its_text(page, lab, lab_root):
    models = ["qwen3-32b", "qwq-32b", "qwen72b-awq", "qwen3-30b-a3b"]
    name = write_notebook(
        lab_root, "compare-stop.ipynb",
        "%load_ext jupyter_llm\nimport jupyter_llm\n"
        "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=60; reasoning_tokens=20; answer_tokens=3000'}",
        f"%%llm_compare -m {','.join(models)}\nWrite a long essay about the moon.",
    )
    open_and_run_all(page, lab, name)
    columns = page.locator(".jllm-compare .jllm-column")
    page.wait_for_function("() => { const c = document.querySelectorAll('.jllm-compare .jllm-column'); "
                           "return c.length == 4 && [...c].every(x => x.innerText.length > 600); }", timeout=60_000)
    shoot(page.locator(".jllm-compare"), "compare-streaming.png")
    clicked = time.monotonic()
    page.locator(".jllm-compare button:has-text('Stop')").click()
    page.wait_for_selector(".jllm-compare table.jllm-summary", timeout=5000)
    assert time.monotonic() - clicked < 2.5  # the click itself included
    texts = [columns.nth(i).inner_text() for i in range(4)]
    for model, text in zip(models, texts):
        assert text.startswith(model) and "stopped" in text and len(text) > 600
    assert page.locator(".jllm-compare table.jllm-summary td", has_text="stopped").count() == 4
    page.wait_for_timeout(1000)
    assert [columns.nth(i).inner_text() for i in range(4)] == texts  # nothing arrived after Stop
    shoot(page.locator(".jllm-compare"), "compare-stopped.png")
