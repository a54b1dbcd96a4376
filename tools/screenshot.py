"""Take the README's screenshots in JupyterLab, headless Chromium, light and dark theme.

`python tools/screenshot.py [OUT_DIR]` (default docs/) writes, for THEME in light and dark:

- quickstart-THEME.png: the quickstart's first %%llm cell after Run All (notes, folded
  reasoning, answer, usage line), and streaming.png (light): that cell mid-reply;
- tools-THEME.png: the tools notebook's first --tools cell (the call's card, the answer);
- typo-THEME.png: a %%llm cell with a misspelt model name;
- interrupt-THEME.png: a %%llm cell interrupted with ■ while it streams.

The notebooks are copied to a temporary folder first, so the repository's saved outputs
never change. No gateway is configured: the built-in emulator answers, as it does for a
newcomer. Needs Debian's chromium and the playwright package (no browser download), and
a CJK font (apt-get install fonts-wqy-zenhei) for the model qwen32b-awq(试用) in the list
the typo screenshot shows.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from lab import DARK, Lab, launch
from lab_page import cells, menu, open_and_run_all, open_notebook, wait_cells_done, write_notebook

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = {"width": 1100, "height": 900}
TRY_IT = ("%load_ext jupyter_llm\nimport jupyter_llm\n"
          "jupyter_llm.session.extra_headers = {'X-Emulator': 'rate=40; reasoning_tokens=40'}")


def main(out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_"))}
    env["JUPYTER_LLM_CONFIG_FILE"] = os.devnull
    with tempfile.TemporaryDirectory(prefix="jllm-shots-") as folder, sync_playwright() as p:
        root = Path(folder)
        shutil.copytree(ROOT / "notebooks", root, dirs_exist_ok=True)
        for cassette in root.glob("*.llm.jsonl"):
            cassette.unlink()  # answered live by the emulator, as a newcomer's first run is
        browser = launch(p)
        for theme in ("light", "dark"):
            with Lab(root, env, settings=DARK if theme == "dark" else None) as lab:
                page = browser.new_page(viewport=VIEWPORT)
                try:
                    _quickstart(page, lab, out, theme)
                    _cell(page, lab, "tools.ipynb", "--tools get_current_weather", out / f"tools-{theme}.png")
                    _typo(page, lab, root, out / f"typo-{theme}.png")
                    _interrupt(page, lab, root, out / f"interrupt-{theme}.png")
                except Exception:
                    page.screenshot(path=str(out / f"failed-{theme}.png"))
                    raise
                page.close()
        browser.close()


def _quickstart(page, lab, out: Path, theme: str) -> None:
    open_notebook(page, lab, "quickstart.ipynb")
    page.keyboard.press("Control+b")  # hide the file browser: more room for the notebook
    menu(page, "Edit", "Clear Outputs of All Cells")
    menu(page, "Run", "Run All Cells")
    cell = cells(page).filter(has_text="Explain what {df.shape}").first
    if theme == "light":
        cell.locator(".jllm-live", has_text="Placeholder text").wait_for(timeout=60_000)
        cell.scroll_into_view_if_needed()
        page.screenshot(path=str(out / "streaming.png"))
    wait_cells_done(page)
    _shoot(cell, out / f"quickstart-{theme}.png")


def _cell(page, lab, notebook: str, marker: str, path: Path) -> None:
    open_and_run_all(page, lab, notebook, clear=True)
    _shoot(cells(page).filter(has_text=marker).first, path)


def _typo(page, lab, root: Path, path: Path) -> None:
    name = write_notebook(root, "typo.ipynb", "%load_ext jupyter_llm", "%%llm -m qwen3-23b\nSay hello.")
    open_and_run_all(page, lab, name)
    _shoot(cells(page).nth(1), path)


def _interrupt(page, lab, root: Path, path: Path) -> None:
    name = write_notebook(root, "interrupt.ipynb", TRY_IT, "%%llm -m qwen72b-awq\nWrite an essay about tides.",
                          "print('Run All stops before this cell')")
    open_notebook(page, lab, name)
    menu(page, "Run", "Run All Cells")
    cells(page).nth(1).locator(".jllm-live", has_text="Placeholder text").wait_for(timeout=60_000)
    time.sleep(1.5)
    menu(page, "Kernel", "Interrupt Kernel")
    cells(page).nth(1).locator("[data-mime-type='application/vnd.jupyter.stderr']").wait_for(timeout=30_000)
    _shoot(page.locator(".jp-Notebook"), path)


def _shoot(locator, path: Path) -> None:
    locator.scroll_into_view_if_needed()
    time.sleep(0.5)  # let the last output settle on screen
    locator.screenshot(path=str(path))


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "docs"))
