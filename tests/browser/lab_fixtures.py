"""Helpers of the browser tests: a JupyterLab or Notebook 7 on loopback per module, the OS's headless Chromium.

The kernel the server starts talks to the test emulator with TEST_KEY. Each server keeps
its config, settings, workspaces and runtime files in a temporary folder (see
``tools/lab.py``), so what the machine's user set up never reaches the page. Without
Chromium or Playwright the tests are skipped with the reason, and a warning says so in
the summary: a missing browser must never pass for a green run.

Waits target what the test needs in the notebook on screen: its first visible code
editor, its kernel indicator, its prompts. Lab may keep other documents in hidden tabs.
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

#: The notebook on screen: Lab hides the panels of other tabs, Notebook 7 shows one.
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
#: The kernel state of the notebook on screen, or null while it has no kernel yet.
KERNEL_STATE = """() => {
  const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));
  const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const name = panel && panel.querySelector('.jp-Toolbar-kernelName');
  const started = name && !['', 'No Kernel'].includes(name.textContent.trim());
  return started && indicator ? indicator.dataset.status : null;
}"""


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


def write_notebook(root: Path, name: str, *cells: str) -> str:
    """A notebook of code cells in the server's folder; returns its name."""
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
    """Open the notebook, wait until its editor shows and the kernel it starts is idle.

    The page starts the kernel itself: one started beforehand through the REST API makes
    JupyterLab 4.6 start a second one and switch between them while the page loads.
    """
    page.goto(lab.notebook_url(name))
    cells(page).locator(".jp-InputArea-editor").filter(visible=True).first.wait_for(timeout=60_000)
    kernel_state(page, "idle")


def kernel_state(page, state: str, timeout: float = 60_000) -> None:
    """Wait until the kernel indicator of the notebook on screen (Lab and Notebook 7 alike) shows ``state``.

    Before its kernel starts the indicator reads "idle" too, beside "No Kernel": a kernel
    name must show as well.
    """
    page.wait_for_function(f"(state) => ({KERNEL_STATE})() === state", arg=state, timeout=timeout)




def cells(page):
    """The cells of the notebook on screen."""
    return page.locator(f"{NOTEBOOK} .jp-Cell")


def menu(page, menu: str, item: str) -> None:
    """Click ITEM in the menu bar's MENU."""
    page.click(f"div.lm-MenuBar-itemLabel:text-is('{menu}')")
    page.click(f"li.lm-Menu-item:has-text('{item}')")


def wait_cells_done(page, timeout: float = 60_000) -> None:
    """Every code cell of the notebook on screen has an execution count (none is queued or running)."""
    page.wait_for_function(
        f"() => [...document.querySelectorAll({NOTEBOOK!r} + ' .jp-CodeCell .jp-InputPrompt')]"
        ".every(p => /\\[\\d+\\]/.test(p.textContent))",
        timeout=timeout,
    )


def run_cell(page, index: int) -> None:
    """Run one code cell as a user does: click into it, Ctrl+Enter (run in place, no new cell)."""
    cells(page).nth(index).locator(".jp-InputArea-editor").click()
    page.keyboard.press("Control+Enter")


def shoot(locator, name: str) -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    locator.scroll_into_view_if_needed()
    locator.screenshot(path=str(path))
    return path
