"""A workshop as a student sees it in JupyterLab, headless Chromium: the doctor's table, the quota
in the settings panel, and the workshop notebook opened as `make lab` and Binder open it
(fallback mode), with an edited prompt going live. Screenshots go to artifacts/browser/."""
from __future__ import annotations

import re
import shutil

import pytest
from lab_fixtures import ROOT, Lab, browser, lab_root, open_and_run_all, page, shoot, write_notebook  # noqa: F401
from support import MIDDLE, TEST_KEY, kernel_environment, opening_environment

pytestmark = pytest.mark.timeout(300)


@pytest.fixture(scope="module")
def lab(browser, emulator, lab_root):
    """JupyterLab started the way `make lab` starts it: with binder/start's environment."""
    env = {**opening_environment(), **kernel_environment(emulator.url, lab_root / "config.toml")}
    with Lab(lab_root, env) as server:
        yield server


def test_the_doctor_is_a_table_of_marks_and_the_settings_panel_shows_the_quota(page, lab, lab_root):
    name = write_notebook(
        lab_root, "doctor.ipynb",
        "%load_ext jupyter_llm\nimport jupyter_llm\n%llm_config model=qwen3-32b\n"
        "jupyter_llm.session.extra_headers = {'X-Emulator': 'quota=2.5'}",
        "%llm_doctor",
        "jupyter_llm.SettingsPanel()",
    )
    open_and_run_all(page, lab, name)
    table = page.locator(".jllm-doctor")
    table.wait_for()
    text = table.inner_text()
    assert "16 checks in" in text and "no problems" in text and "✓" in text and "✗" not in text
    assert "of 2.50 left" in text and "sk-…cdef (37 characters)" in text
    assert table.locator("tr").count() == 16
    shoot(table, "doctor.png")
    quota = page.locator(".jllm-settings", has_text=re.compile(r"Quota at the gateway: [\d.]+ of 2\.50 left"))
    quota.wait_for()
    shoot(quota, "settings-quota.png")
    assert TEST_KEY not in page.content() and MIDDLE not in page.content()


def test_the_workshop_notebook_replays_and_an_edited_prompt_goes_live(page, lab, lab_root, emulator):
    for name in ("workshop.ipynb", "workshop.llm.jsonl"):
        shutil.copy(ROOT / "notebooks" / name, lab_root / name)
    if not (lab_root / "data").exists():
        (lab_root / "data").symlink_to(ROOT / "notebooks" / "data")
    shipped = (lab_root / "workshop.llm.jsonl").read_bytes()
    emulator.reset()
    open_and_run_all(page, lab, "workshop.ipynb", clear=True)
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.error']").count() == 0
    assert not [r for r in emulator.requests if r["method"] == "POST"], "every answer came from the cassette"
    first = page.locator(".jp-Notebook .jp-Cell").filter(has_text="What is a language model").first
    editor = first.locator(".jp-InputArea-editor")
    editor.click()
    page.keyboard.press("Control+End")
    page.keyboard.press("Shift+Home")
    page.keyboard.type("What is a language model, in one short sentence?")
    page.keyboard.press("Control+Enter")
    first.filter(has_text="sent live, not recorded").wait_for(timeout=60_000)
    first.locator(".jp-OutputArea-output", has_text="You asked: What is a language model, in one short").wait_for()
    assert [r["body"]["messages"][-1]["content"] for r in emulator.requests if r["method"] == "POST"] == [
        "What is a language model, in one short sentence?"]
    assert (lab_root / "workshop.llm.jsonl").read_bytes() == shipped
    page.locator(".jp-Notebook .jp-Cell").first.scroll_into_view_if_needed()
    shoot(page.locator(".jp-NotebookPanel").first, "workshop-top.png")
    shoot(first, "workshop-edited.png")
