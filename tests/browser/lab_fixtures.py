"""Helpers of the browser tests: a JupyterLab or Notebook 7 on loopback per module, the OS's headless Chromium.

The kernel the server starts talks to the test emulator with TEST_KEY. Each server keeps
its config, settings, workspaces and runtime files in a temporary folder (see
``tools/lab.py``), so what the machine's user set up never reaches the page. Without
Chromium or Playwright the tests are skipped with the reason, and a warning says so in
the summary: a missing browser must never pass for a green run.

Opening and running notebooks is ``tools/lab_page.py``'s, shared with the screenshot tool.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import pytest

from support import kernel_environment

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
sys.path.insert(0, str(ROOT / "tools"))

from lab import Lab, chromium, launch  # noqa: E402
from lab_page import (KERNEL_STATE, NOTEBOOK, cells, kernel_state, menu, open_and_run_all,  # noqa: E402,F401
                      open_notebook, run_cell, shown_words, wait_cells_done, words, write_notebook)


class BrowserTestsSkipped(UserWarning):
    """The browser tests did not run."""


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if chromium() is None:
        return "no Chromium on this machine (apt-get install chromium, or set $CHROMIUM)"
    return None


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread
# until it stops, which would break every later test that calls asyncio.run().
@pytest.fixture(scope="module")
def browser():
    missing = _missing()
    if missing:
        warnings.warn(BrowserTestsSkipped(f"BROWSER TESTS SKIPPED: {missing}"), stacklevel=1)
        pytest.skip(f"browser tests skipped: {missing}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = launch(p)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def lab_root(tmp_path_factory):
    return tmp_path_factory.mktemp("lab")


@pytest.fixture(scope="module")
def lab(browser, emulator, lab_root):
    """JupyterLab on ``lab_root``."""
    with Lab(lab_root, kernel_environment(emulator.url, lab_root / "config.toml")) as server:
        yield server


@pytest.fixture(scope="module")
def notebook7(browser, emulator, lab_root):
    """Notebook 7 on ``lab_root``."""
    with Lab(lab_root, kernel_environment(emulator.url, lab_root / "config.toml"), app="notebook") as server:
        yield server


@pytest.fixture
def page(browser, request):
    """A fresh page; when the test fails, what it showed is kept in artifacts/browser/."""
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.set_default_timeout(30_000)
    failed = request.session.testsfailed
    yield page
    if request.session.testsfailed > failed:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{request.node.name}-failed.png"), full_page=True)
    context.close()


def shoot(locator, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    return path
