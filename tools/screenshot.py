"""Take the README's screenshots: JupyterLab, the quickstart, Run All, headless Chromium.

`python tools/screenshot.py OUT_DIR [NOTEBOOK CELL_TEXT]` writes streaming.png (mid-reply)
and final.png of the first cell containing CELL_TEXT (default: the quickstart's first
%%llm cell).
Needs Debian's chromium and the playwright package (no browser download).
"""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from lab import Lab, launch

ROOT = Path(__file__).resolve().parent.parent


def main(out: Path, notebook: str = "quickstart.ipynb", marker: str = "Explain what") -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_"))}
    env["JUPYTER_LLM_CONFIG_FILE"] = os.devnull
    with Lab(ROOT / "notebooks", env) as lab:
        with sync_playwright() as p:
            browser = launch(p)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(lab.url(f"tree/{notebook}"))
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
            page.keyboard.press("Control+b")  # hide the file browser: more room for the notebook
            page.click("text=Edit")
            page.click("text=Clear Outputs of All Cells")
            page.click("text=Run", timeout=10000)
            page.click("text=Restart Kernel and Run All Cells…", timeout=10000)
            page.click(".jp-Dialog button.jp-mod-accept", timeout=10000)
            cell = page.locator(".jp-CodeCell", has_text=marker).first
            try:
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.jp-CodeCell')].some("
                    "c => c.textContent.includes(%r) && c.querySelector('.jllm-live'))" % marker,
                    timeout=60000, polling=50,
                )
                cell.scroll_into_view_if_needed()
                time.sleep(1.2)  # into the answer: reasoning folded, Markdown arriving
                page.screenshot(path=str(out / "streaming.png"))
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.jp-CodeCell')].some("
                    "c => c.textContent.includes(%r) && c.querySelector('details') && !c.querySelector('.jllm-live'))"
                    % marker,
                    timeout=60000,
                )
                cell.scroll_into_view_if_needed()
                time.sleep(0.5)
                page.screenshot(path=str(out / "final.png"))
            except Exception:
                page.screenshot(path=str(out / "failed.png"))
                raise
            browser.close()


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"), *sys.argv[2:4])
