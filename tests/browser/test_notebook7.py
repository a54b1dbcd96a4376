"""Notebook 7 behaves like JupyterLab: the quickstart and the panels notebook, run as a user does."""
from __future__ import annotations

import shutil

import pytest
from lab_fixtures import (NOTEBOOK, ROOT, browser, cells, lab_root, notebook7, open_and_run_all, page,  # noqa: F401
                          shoot)

pytestmark = pytest.mark.timeout(240)

ERRORS = f"{NOTEBOOK} [data-mime-type='application/vnd.jupyter.stderr']"


def copy(lab_root, name: str) -> str:
    shutil.copy(ROOT / "notebooks" / name, lab_root / name)
    shutil.copytree(ROOT / "notebooks" / "data", lab_root / "data", dirs_exist_ok=True)
    return name


def test_the_quickstart_streams_folds_its_reasoning_and_shows_grey_notes(page, notebook7, lab_root):
    open_and_run_all(page, notebook7, copy(lab_root, "quickstart.ipynb"), clear=True)
    assert page.locator(ERRORS).count() == 0, "no error and no red stderr"
    first = cells(page).filter(has_text="Explain what {df.shape}").first
    assert first.locator("details summary", has_text="Reasoning ·").count() == 1
    assert "You asked: Explain what (3, 2) means" in first.inner_text()
    assert "Placeholder text from the built-in emulator" in first.inner_text()
    assert first.locator(".jllm-live").count() == 0, "the live view gave way to the final outputs"
    shoot(first, "notebook7-quickstart.png")


def test_the_panels_notebook_shows_every_panel(page, notebook7, lab_root):
    open_and_run_all(page, notebook7, copy(lab_root, "panels.ipynb"), clear=True)
    page.wait_for_selector(".jllm-compare table.jllm-summary", timeout=60_000)
    assert page.locator(ERRORS).count() == 0
    for name in ("settings", "chat", "compare"):
        panel = page.locator(f".jllm-{name}").first
        assert panel.is_visible()
        shoot(panel, f"notebook7-{name}.png")
    chat = page.locator(".jllm-chat")
    prompt = chat.locator(".jllm-prompt input")
    prompt.fill("And in one sentence?")
    prompt.press("Enter")
    chat.locator(".jllm-reply .jllm-footer").last.filter(has_text="first token").wait_for(timeout=60_000)
