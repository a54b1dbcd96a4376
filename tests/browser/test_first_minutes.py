"""What a newcomer sees in JupyterLab in the first ten minutes: one check per item of that list.

Each test runs a small notebook as a user would (Run All, a click, ■) and reads what the
page shows: the outputs' text, their colours, the kernel indicator. Screenshots go to
artifacts/browser/.
"""
from __future__ import annotations

import re

import pytest
from lab_fixtures import (KERNEL_STATE, browser, cells, kernel_state, lab, lab_root, menu, open_and_run_all,  # noqa: F401
                          open_notebook, page, run_cell, shoot, wait_cells_done, write_notebook)

pytestmark = pytest.mark.timeout(240)

SETUP = "%load_ext jupyter_llm\nimport jupyter_llm\n"
SLOW = "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=40; reasoning_tokens=40; answer_tokens=2000'}\n"
STDERR = "[data-mime-type='application/vnd.jupyter.stderr']"


def outputs(page, index: int):
    """The outputs of code cell ``index`` (counting every cell) of the notebook on screen."""
    return cells(page).nth(index).locator(".jp-OutputArea-output")


def colour(locator) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", locator.evaluate("e => getComputedStyle(e).color"))[:3])


def test_interrupting_a_streaming_cell_shows_one_line_stops_run_all_and_keeps_the_text(page, lab, lab_root):
    name = write_notebook(lab_root, "interrupt.ipynb", SETUP + SLOW, "%%llm -m qwen72b-awq\nWrite an essay about tides.",
                          "never_run = True", "len(_llm.content), _llm.complete")
    open_notebook(page, lab, name)
    menu(page, "Run", "Run All Cells")
    cells(page).nth(1).locator(".jllm-live", has_text="Placeholder text").wait_for(timeout=60_000)
    page.wait_for_timeout(600)
    menu(page, "Kernel", "Interrupt Kernel")
    error = cells(page).nth(1).locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    error.wait_for(timeout=30_000)
    kernel_state(page, "idle", 30_000)
    text = error.inner_text().strip()
    assert re.fullmatch(r"KeyboardInterrupt: interrupted after [\d,]+ characters of the answer; "
                        r"what arrived is kept in _llm\.", text), text
    shown = cells(page).nth(1).locator(".jp-OutputArea").inner_text()
    assert "Traceback" not in shown and "httpcore" not in shown
    assert re.search(r"qwen72b-awq · .* · INCOMPLETE", shown), "the partial reply stays, marked incomplete"
    # Run All stopped at the interrupted cell: the next one never ran.
    assert cells(page).nth(2).locator(".jp-InputPrompt").inner_text().strip() in ("[ ]:", "[\u00a0]:")
    run_cell(page, 3)
    kept = outputs(page, 3).filter(has_text="False")
    kept.wait_for(timeout=30_000)
    assert int(re.search(r"\((\d+), False\)", kept.inner_text()).group(1)) > 50
    shoot(cells(page).nth(1), "interrupted.png")


def test_notes_are_quiet_grey_lines_and_the_no_gateway_notice_comes_once(page, lab, lab_root):
    name = write_notebook(lab_root, "notes.ipynb", SETUP + "jupyter_llm.session.base_url = None",
                          "%%llm\nSay hello.", "%%llm\nSay hello again.", "%llm_reset")
    open_and_run_all(page, lab, name)
    notebook = cells(page)
    assert page.locator(f".jp-Notebook {STDERR}").count() == 0, "no red stderr anywhere"
    first, second = notebook.nth(1).inner_text(), notebook.nth(2).inner_text()
    assert "no gateway configured" in first and "%llm_config base_url=" in first
    assert "no gateway configured" not in second, "said once per kernel"
    assert re.search(r"using \S+ \(set a default with %llm_config model=NAME\)", first), first
    cleared = outputs(page, 3).filter(has_text="conversation 'default' cleared")
    assert cleared.count() == 1
    red, green, blue = colour(cleared.locator("div").first)
    assert abs(red - green) < 16 and abs(green - blue) < 16 and 90 < red < 200, "grey, not red"
    shoot(notebook.nth(1), "notes.png")


def test_a_typo_in_the_model_name_is_said_once_as_the_error(page, lab, lab_root):
    name = write_notebook(lab_root, "typo.ipynb", SETUP, "%%llm -m qwen3-23b\nSay hello.")
    open_and_run_all(page, lab, name)
    shown = outputs(page, 1)
    assert shown.count() == 1, [shown.nth(i).inner_text() for i in range(shown.count())]
    text = shown.first.inner_text()
    assert text.startswith("ModelNotFound: ") and "qwen3-32b" in text
    assert "INCOMPLETE" not in text and "Traceback" not in text
    shoot(cells(page).nth(1), "typo.png")


def test_the_finished_reasoning_is_framed_like_the_live_view_in_both_themes(page, lab, lab_root):
    name = write_notebook(lab_root, "frame.ipynb", SETUP, "%%llm -m qwq-32b\nWhy is the sky blue?")
    open_and_run_all(page, lab, name)
    details = cells(page).nth(1).locator("details").first
    details.locator("summary").click()
    looks = {}
    for theme in ("light", "dark"):
        if theme == "dark":
            menu(page, "Settings", "Theme")
            page.click("li.lm-Menu-item:has-text('JupyterLab Dark')")
            page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
        style = details.evaluate("e => { const d = getComputedStyle(e), s = getComputedStyle(e.querySelector('summary'));"
                                 " return [d.borderTopWidth, d.borderTopStyle, d.borderTopColor, s.backgroundColor]; }")
        width, line, border, band = style
        assert float(width.removesuffix("px")) >= 1 and line == "solid", style
        looks[theme] = (border, band)
        shoot(cells(page).nth(1), f"reasoning-{theme}.png")
    assert looks["light"] != looks["dark"], "the frame follows the theme"
    menu(page, "Settings", "Theme")
    page.click("li.lm-Menu-item:has-text('JupyterLab Light')")


def test_conversation_repr_compare_columns_and_export_after_clear(page, lab, lab_root):
    name = write_notebook(
        lab_root, "small.ipynb", SETUP,
        "chat = jupyter_llm.Conversation(model='qwen3-32b')\nchat.ask('What is a p-value?', display=False)\nchat",
        "%%llm_compare -m qwen3-32b,qwq-32b,qwen72b-awq\nExplain what a p-value is in two sentences.",
        "panel = jupyter_llm.ChatPanel(model='qwen3-32b')\nawait panel.send('Hello there')\npanel",
    )
    open_and_run_all(page, lab, name)
    conversation = outputs(page, 1).first
    assert conversation.locator("strong", has_text="Conversation").count() == 1
    assert "**" not in conversation.inner_text()

    page.wait_for_selector(".jllm-compare table.jllm-summary", timeout=60_000)
    for column in page.locator(".jllm-compare .jllm-column").all():
        assert column.evaluate("c => c.scrollHeight <= c.clientHeight + 1"), "the whole answer shows"
        stats = column.locator(".jllm-text .widget-html-content")
        line = float(stats.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
        assert line < 24, "wrapped stats read as one paragraph, not lines 28px apart"
    shoot(page.locator(".jllm-compare"), "compare-columns.png")

    chat = page.locator(".jllm-chat")
    chat.locator("button", has_text="Clear").click()
    chat.locator("button", has_text="Export").click()
    chat.locator(".widget-html", has_text="Nothing to export").wait_for()


def test_the_kernel_reads_busy_for_as_long_as_a_llm_cell_streams(page, lab, lab_root):
    # The first widget a kernel shows made JupyterLab open a subshell over the control
    # channel, whose status replies it took for the kernel's: Idle while the cell streamed.
    name = write_notebook(lab_root, "busy.ipynb", SETUP + SLOW.replace("answer_tokens=2000", "answer_tokens=120"),
                          "%%llm -m qwq-32b\nExplain tides.")
    open_notebook(page, lab, name)
    page.evaluate("""(state) => { window.__states = []; window.__timer = setInterval(() => {
        const bar = [...document.querySelectorAll('.jp-StatusBar-Widget')].map(e => e.innerText).find(t => t.includes('|'));
        const live = !!document.querySelector('.jp-Cell .jllm-live');
        window.__states.push([eval(state)(), (bar || '').split('|')[1].trim().split(/\\s/)[0], live]); }, 25); }""",
                  KERNEL_STATE)
    menu(page, "Run", "Run All Cells")
    wait_cells_done(page)
    kernel_state(page, "idle", 30_000)
    states = page.evaluate("() => { clearInterval(window.__timer); return window.__states; }")
    streaming = [(state, bar) for state, bar, live in states if live]
    assert len(streaming) > 10, states
    assert all(state == "busy" and bar == "Busy" for state, bar in streaming), streaming


def test_reasoning_starts_streaming_at_once_not_after_a_pause(page, lab, lab_root):
    name = write_notebook(lab_root, "start.ipynb",
                          SETUP + "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=30; reasoning_tokens=60; "
                                  "answer_tokens=20'}", "%%llm -m qwq-32b\nExplain tides.")
    open_and_run_all(page, lab, name)
    page.evaluate("""() => { window.__growth = []; window.__timer = setInterval(() => {
        const live = document.querySelectorAll('.jp-Cell')[1].querySelector('.jllm-live');
        const n = live ? live.innerText.length : 0;
        const last = window.__growth.at(-1);
        if (n && (!last || last[1] !== n)) window.__growth.push([performance.now(), n]); }, 10); }""")
    run_cell(page, 1)
    wait_cells_done(page)
    page.wait_for_function("() => !document.querySelectorAll('.jp-Cell')[1].querySelector('.jllm-live')")
    growth = page.evaluate("() => { clearInterval(window.__timer); return window.__growth; }")
    assert len(growth) > 5, growth
    # The reasoning's second update follows the first by about the coalescing interval (0.1 s),
    # not 0.4 s later, as when opening the view held the next update back.
    assert growth[1][0] - growth[0][0] < 300, growth[:4]
