"""Helpers of the browser tests: one JupyterLab on loopback per run, the OS's headless Chromium.

The kernel that JupyterLab starts talks to the test emulator with TEST_KEY. Without
Chromium or Playwright the tests are skipped with the reason, and a warning says so in
the summary: a missing browser must never pass for a green run.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import nbformat
import pytest

from support import kernel_environment

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "browser"
sys.path.insert(0, str(ROOT / "tools"))

from lab import Lab, chromium, launch  # noqa: E402


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
    env = kernel_environment(emulator.url, lab_root / "config.toml")
    with Lab(lab_root, env) as server:
        yield server


@pytest.fixture
def page(browser, lab, request):
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


def write_notebook(root: Path, name: str, *cells: str) -> str:
    """A notebook of code cells in the Lab's folder; returns its name."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nbformat.write(nb, root / name)
    return name


def open_and_run_all(page, lab, name: str, *, clear: bool = False, navigate: bool = True) -> None:
    """Open a notebook (unless it is open), run every cell, wait until the kernel has run them all.

    ``clear`` first clears saved outputs, whose execution counts would read as already run.
    """
    if navigate:
        open_notebook(page, lab, name)
    if clear:
        menu(page, "Edit", "Clear Outputs of All Cells")
    menu(page, "Run", "Run All Cells")
    wait_cells_done(page)


def open_notebook(page, lab, name: str) -> None:
    """Start the notebook's kernel, open the notebook, wait until it is connected and idle."""
    lab.kernel_for(name)
    page.goto(lab.url(f"tree/{name}"))
    # A rendered Markdown cell hides its editor: wait for one that shows.
    page.locator(".jp-Notebook .jp-Cell .jp-InputArea-editor").filter(visible=True).first.wait_for(timeout=60_000)
    # The status bar reads "Python 3 (ipykernel) | Idle" once the page is connected to the kernel.
    page.locator(".jp-StatusBar-Widget", has_text="| Idle").first.wait_for(timeout=60_000)


def menu(page, menu: str, item: str) -> None:
    """Click ITEM in the menu bar's MENU."""
    page.click(f"div.lm-MenuBar-itemLabel:text-is('{menu}')")
    page.click(f"li.lm-Menu-item:has-text('{item}')")


def wait_cells_done(page, timeout: float = 60_000) -> None:
    """Every code cell has an execution count (none is queued or running)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')]"
        ".every(p => /\\[\\d+\\]/.test(p.textContent))",
        timeout=timeout,
    )


def run_cell(page, index: int) -> None:
    """Run one code cell as a user does: click into it, Ctrl+Enter (run in place, no new cell)."""
    cell = page.locator(".jp-Notebook .jp-Cell").nth(index)
    cell.locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")


def shoot(locator, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    return path
