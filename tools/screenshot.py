"""Take the README's screenshots: JupyterLab, the quickstart, Run All, headless Chromium.

`python tools/screenshot.py OUT_DIR [NOTEBOOK CELL_TEXT]` writes streaming.png (mid-reply)
and final.png of the first cell containing CELL_TEXT (default: the quickstart's first
%%llm cell).
Needs Debian's chromium and the playwright package (no browser download).
"""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main(out: Path, notebook: str = "quickstart.ipynb", marker: str = "Explain what") -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_"))}
    env["JUPYTER_LLM_CONFIG_FILE"] = os.devnull
    port = _free_port()
    settings = Path(tempfile.mkdtemp()) / "settings"
    news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    news.parent.mkdir(parents=True)
    news.write_text('{"fetchNews": "false"}')  # no "get news?" toast over the screenshot
    lab = subprocess.Popen(
        [sys.executable, "-m", "jupyterlab", "--no-browser", "--allow-root", f"--port={port}", "--ip=127.0.0.1",
         "--IdentityProvider.token=shot", f"--notebook-dir={ROOT / 'notebooks'}",
         f"--LabApp.user_settings_dir={settings}", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(120):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api?token=shot")
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.goto(f"http://127.0.0.1:{port}/lab/tree/{notebook}?token=shot&reset")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60000)
            page.keyboard.press("Control+b")  # hide the file browser: more room for the notebook
            page.click("text=Edit")
            page.click("text=Clear Outputs of All Cells")
            page.click("text=Run", timeout=10000)
            page.click("text=Restart Kernel and Run All Cells…", timeout=10000)
            page.click(".jp-Dialog button.jp-mod-accept", timeout=10000)
            cell = page.locator(".jp-CodeCell", has_text=marker)
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
    finally:
        lab.terminate()
        lab.wait(timeout=30)


if __name__ == "__main__":
    main(Path(sys.argv[1] if len(sys.argv) > 1 else "docs"), *sys.argv[2:4])
