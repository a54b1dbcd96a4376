"""The browser tests do not depend on the machine: a user's own workspace and settings never reach them.

A home folder is set up the way a JupyterLab user's looks after some use, deliberately
odd: a saved workspace with a tab of another notebook, a dark theme, windowed notebooks,
no kernel started by default, and a server config that would serve another folder. A Lab
started the way the tests start theirs must ignore all of it, and leave the folder as it
found it.
"""
from __future__ import annotations

import json

import pytest
from lab_fixtures import (KERNEL_STATE, browser, cells, open_and_run_all, page, write_notebook)  # noqa: F401
from lab import Lab
from support import kernel_environment

pytestmark = pytest.mark.timeout(240)

ODD_WORKSPACE = {
    "data": {
        "layout-restorer:data": {"main": {"dock": {"type": "tab-area", "currentIndex": 0,
                                                   "widgets": ["notebook:elsewhere/other.ipynb"]}},
                                 "left": {"collapsed": True, "widgets": []}},
        "notebook:elsewhere/other.ipynb": {"data": {"path": "elsewhere/other.ipynb", "factory": "Notebook"}},
    },
    "metadata": {"id": "default"},
}
ODD_SETTINGS = {
    "@jupyterlab/apputils-extension/themes.jupyterlab-settings": {"theme": "JupyterLab Dark"},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "full",
                                                                   "autoStartDefaultKernel": False},
}


def odd_home(home):
    jupyter = home / ".jupyter"
    workspace = jupyter / "lab" / "workspaces" / "default-37a8.jupyterlab-workspace"
    workspace.parent.mkdir(parents=True)
    workspace.write_text(json.dumps(ODD_WORKSPACE))
    for name, values in ODD_SETTINGS.items():
        path = jupyter / "lab" / "user-settings" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    (jupyter / "jupyter_server_config.py").write_text("c.ServerApp.root_dir = '/nonexistent'\n")
    (home / ".ipython" / "profile_default").mkdir(parents=True)
    (home / ".ipython" / "profile_default" / "ipython_config.py").write_text("raise SystemExit('user profile')\n")


def snapshot(folder) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_lab_ignores_the_users_workspace_and_settings_and_leaves_nothing_behind(page, emulator, tmp_path):
    home, root = tmp_path / "home", tmp_path / "root"
    odd_home(home)
    root.mkdir()
    before = snapshot(home)
    env = dict(kernel_environment(emulator.url, root / "config.toml"), HOME=str(home))
    with Lab(root, env) as lab:
        name = write_notebook(root, "mine.ipynb", "%load_ext jupyter_llm", "%%llm -m qwen72b-awq\nSay hello.")
        open_and_run_all(page, lab, name)
        assert page.evaluate("() => document.body.dataset.jpThemeLight") == "true", "not the user's dark theme"
        assert page.locator(".lm-TabBar-tab", has_text="other.ipynb").count() == 0, "not the user's tabs"
        assert "You asked: Say hello." in cells(page).nth(1).inner_text(), "the kernel ignored the user's profile"
    assert snapshot(home) == before, "nothing written to the user's home"
