"""Start JupyterLab on loopback for a headless browser: used by the browser tests and the screenshots.

JupyterLab runs from this interpreter (so its kernel sees this virtualenv) with a token,
on 127.0.0.1 and a free port, with its settings and workspaces in a temporary folder and
no news or update checks (no pop-up over what is being tested or photographed). The
browser is the operating system's Chromium: nothing is downloaded.
"""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BROWSER_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--no-first-run"]
CHROMIUM_NAMES = ("chromium", "chromium-browser")


def chromium() -> str | None:
    """The path of the system's Chromium (``$CHROMIUM`` first), or None."""
    override = os.environ.get("CHROMIUM")
    if override:
        return override if Path(override).exists() else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Lab:
    """A JupyterLab server on ``root``; ``with Lab(root, env) as lab: page.goto(lab.url("tree/x.ipynb"))``.

    ``app="notebook"`` starts Jupyter Notebook 7 instead (``lab.url("notebooks/x.ipynb")``).
    """

    def __init__(self, root: Path, env: dict[str, str] | None = None, token: str = "browser-test",
                 app: str = "jupyterlab"):
        self.root = Path(root)
        self.app = app
        self.env = dict(os.environ if env is None else env)
        self.token = token
        self.port = _free_port()
        self._home = Path(tempfile.mkdtemp(prefix="jllm-lab-"))
        self._process: subprocess.Popen | None = None
        self.log = self._home / "lab.log"

    def url(self, path: str = "") -> str:
        """``lab/PATH`` with the token, and ``reset`` so no earlier layout is restored."""
        if self.app == "notebook":
            return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"
        return f"http://127.0.0.1:{self.port}/lab/{path}?token={self.token}&reset"

    def start(self, timeout: float = 120) -> Lab:
        settings = self._home / "settings"
        news = settings / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
        news.parent.mkdir(parents=True)
        news.write_text('{"fetchNews": "false"}')
        tracker = settings / "@jupyterlab" / "notebook-extension" / "tracker.jupyterlab-settings"
        tracker.parent.mkdir(parents=True)
        tracker.write_text('{"autoStartDefaultKernel": true}')  # no "Select Kernel" dialog
        command = [
            sys.executable, "-m", self.app, "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}", f"--notebook-dir={self.root}",
        ]
        if self.app == "jupyterlab":
            command += [f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={self._home / 'workspaces'}",
                        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
        else:
            command += [f"--JupyterNotebookApp.user_settings_dir={settings}",
                        f"--JupyterNotebookApp.workspaces_dir={self._home / 'workspaces'}"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"JupyterLab exited ({self._process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{self.port}/api/status?token={self.token}", timeout=2)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"JupyterLab did not answer within {timeout:g} s") from None
                time.sleep(0.2)

    def kernel_for(self, path: str) -> str:
        """Start the kernel of notebook ``path`` before it is opened (the page then joins it); its id."""
        body = json.dumps({"path": path, "type": "notebook", "name": path, "kernel": {"name": "python3"}})
        return self._api("sessions", body.encode())["kernel"]["id"]

    def _api(self, path: str, data: bytes | None = None):
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}/api/{path}", data=data,
                                         headers={"Authorization": f"token {self.token}",
                                                  "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None
        shutil.rmtree(self._home, ignore_errors=True)

    def __enter__(self) -> Lab:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def launch(playwright, path: str | None = None):
    """Headless Chromium from the operating system."""
    path = path or chromium()
    if path is None:
        raise RuntimeError("no Chromium found: install the OS package (apt-get install chromium) or set $CHROMIUM")
    return playwright.chromium.launch(executable_path=path, args=BROWSER_ARGS)
