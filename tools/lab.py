"""Start JupyterLab or Notebook 7 on loopback for a headless browser: the browser tests and screenshots.

The server runs from this interpreter (so its kernel sees this virtualenv) with a token,
on 127.0.0.1 and a free port. Everything a user's own Jupyter keeps lives in a temporary
folder removed on stop: config (and with it the user's server config), lab settings,
workspaces, data (kernelspecs, extensions) and runtime files, the kernel's IPython
profile, and npm's cache. So a workspace or setting of the machine's user never reaches
the page, and the run leaves nothing behind. News and update checks are off, and kernels
start without a dialog: nothing pops up over what is tested or photographed. The browser
is the operating system's Chromium: nothing is downloaded.
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
ROOT = Path(__file__).resolve().parent.parent
#: The settings `make lab` and Binder give JupyterLab (see the README): the test servers use them too.
OVERRIDES = ROOT / "binder" / "overrides.json"
#: What the tests and screenshots need on top: no news, no kernel dialog.
QUIET = {
    "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension:tracker": {"autoStartDefaultKernel": True},
}
DARK = {"@jupyterlab/apputils-extension:themes": {"theme": "JupyterLab Dark"}}
#: The server application of each front end, as ``python -m MODULE`` and its traitlets class.
APPS = {"lab": ("jupyterlab", "LabApp"), "notebook": ("notebook", "JupyterNotebookApp")}


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


def lab_settings(extra: dict | None = None) -> dict:
    """Settings by plugin id: the shared overrides, the quiet ones, then ``extra``."""
    merged: dict[str, dict] = {}
    for layer in (json.loads(OVERRIDES.read_text()), QUIET, extra or {}):
        for plugin, values in layer.items():
            merged.setdefault(plugin, {}).update(values)
    return merged


class Lab:
    """A JupyterLab (``app="lab"``) or Notebook 7 (``app="notebook"``) server on ``root``.

    Example::

        with Lab(root, env) as lab:
            page.goto(lab.notebook_url("x.ipynb"))
    """

    def __init__(self, root: Path, env: dict[str, str] | None = None, token: str = "browser-test",
                 app: str = "lab", settings: dict | None = None):
        if app not in APPS:
            raise ValueError(f"app must be one of {', '.join(APPS)}, not {app!r}")
        self.root = Path(root)
        self.app = app
        self.token = token
        self.port = _free_port()
        self._home = Path(tempfile.mkdtemp(prefix=f"jllm-{app}-"))
        self.env = {**(os.environ if env is None else env), **self._isolation()}
        self.settings = lab_settings(settings)
        self._process: subprocess.Popen | None = None
        self.log = self._home / "server.log"

    def _isolation(self) -> dict[str, str]:
        # npm too: JupyterLab asks it for its global prefix, and npm logs that under ~/.npm.
        return {"JUPYTER_CONFIG_DIR": str(self._home / "config"), "JUPYTER_DATA_DIR": str(self._home / "data"),
                "JUPYTER_RUNTIME_DIR": str(self._home / "runtime"), "IPYTHONDIR": str(self._home / "ipython"),
                "npm_config_cache": str(self._home / "npm")}

    @property
    def settings_dir(self) -> Path:
        return self._home / "config" / "lab" / "user-settings"

    @property
    def workspaces_dir(self) -> Path:
        return self._home / "config" / "lab" / "workspaces"

    def url(self, path: str = "") -> str:
        """``PATH`` under the front end's root (``/lab/`` or ``/``), with the token."""
        return f"{self._base}{'/lab' if self.app == 'lab' else ''}/{path}?token={self.token}"

    def notebook_url(self, name: str) -> str:
        """The page that shows notebook ``name`` (relative to ``root``), and nothing left from earlier pages."""
        if self.app == "lab":
            return f"{self._base}/lab/tree/{name}?token={self.token}&reset"
        return f"{self._base}/notebooks/{name}?token={self.token}"

    @property
    def _base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 120) -> Lab:
        for plugin, values in self.settings.items():
            package, name = plugin.split(":")
            path = self.settings_dir / package / f"{name}.jupyterlab-settings"
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(values))
        module, cls = APPS[self.app]
        command = [
            sys.executable, "-m", module, "--no-browser", f"--port={self.port}", "--ip=127.0.0.1",
            f"--IdentityProvider.token={self.token}", f"--ServerApp.root_dir={self.root}",
            f"--{cls}.user_settings_dir={self.settings_dir}", f"--{cls}.workspaces_dir={self.workspaces_dir}",
        ]
        if self.app == "lab":
            command += ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                        "--LabApp.extension_manager=readonly"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        with open(self.log, "wb") as log:
            self._process = subprocess.Popen(command, env=self.env, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"{self.app} exited ({self._process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                urllib.request.urlopen(f"{self._base}/api/status?token={self.token}", timeout=2)
                return self
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"{self.app} did not answer within {timeout:g} s") from None
                time.sleep(0.2)

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
