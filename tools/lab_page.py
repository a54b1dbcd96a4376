"""Driving a notebook page the way a user does: open it, run it, wait for what is needed.

Shared by the browser tests and the screenshot tool, for JupyterLab and Notebook 7 alike.
Waits target the notebook on screen: its first visible code editor, its kernel indicator,
its prompts. Lab may keep other documents in hidden tabs.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

#: The notebook on screen: Lab hides the panels of other tabs, Notebook 7 shows one.
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook"
#: The kernel state of the notebook on screen, or null while it has no kernel yet. A narrow
#: window folds the notebook toolbar (kernel name, indicator) into a menu: Lab's status bar
#: ("Python 3 (ipykernel) | Idle") says the same then.
KERNEL_STATE = """() => {
  const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));
  const indicator = panel && panel.querySelector('.jp-Notebook-ExecutionIndicator');
  const name = panel && panel.querySelector('.jp-Toolbar-kernelName');
  if (indicator && name) {
    return ['', 'No Kernel'].includes(name.textContent.trim()) ? null : indicator.dataset.status;
  }
  const bar = [...document.querySelectorAll('.jp-StatusBar-Widget')].map(e => e.innerText).find(t => t.includes(' | '));
  if (!bar) return null;
  const [kernel, state] = bar.split(' | ');
  return kernel.trim().endsWith('No Kernel') ? null : state.trim().split(/\\s/)[0].toLowerCase();
}"""


def write_notebook(root: Path, name: str, *sources: str) -> str:
    """A notebook of code cells in the server's folder; returns its name."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
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


def words(text: str) -> list[str]:
    """The words of a text as shown, in order: what a check that nothing was lost compares."""
    return re.findall(r"\w+", text)


def shown_words(markdown: str) -> list[str]:
    """The words that Markdown's rendering holds as text: not an ordered list's numbers (CSS
    draws them), nor a code fence's language."""
    text = re.sub(r"(?m)^(\s*)\d+[.)](?=\s)", r"\1", markdown)
    return words(re.sub(r"(?m)^(\s*)(`{3,}|~{3,})[^`\n]*$", r"\1", text))


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
