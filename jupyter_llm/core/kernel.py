"""Where the code runs: the IPython shell, whether a kernel (and a front end) is behind it,
and which notebook file the kernel belongs to.

IPython is never imported here: a plain script that never loaded it has no shell.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path


def shell():
    """The running IPython shell, or None (a script, or IPython not loaded).

    The shell is asked through the already-loaded module: the core never imports IPython.
    """
    ipython = sys.modules.get("IPython")
    return ipython.get_ipython() if ipython is not None else None


def in_kernel() -> bool:
    """True in a Jupyter kernel, where rich outputs and widgets reach a front end."""
    return getattr(shell(), "kernel", None) is not None


def user_namespace() -> dict | None:
    """The notebook's variables, when a shell runs this code (else None)."""
    running = shell()
    return running.user_ns if running is not None else None


def notebook_path() -> Path | None:
    """The running notebook's file, when the front end told the kernel (else None).

    Jupyter Server puts it in ``JPY_SESSION_NAME`` (ipykernel copies it to ``__session__``),
    relative to the server's root, while the kernel starts in the notebook's folder; VS Code
    sets ``__vsc_ipynb_file__``.
    """
    names = [os.environ.get("JPY_SESSION_NAME")]
    namespace = user_namespace()
    if namespace is not None:
        names = [namespace.get("__vsc_ipynb_file__"), namespace.get("__session__")] + names
    for name in names:
        if not isinstance(name, str) or not name.endswith(".ipynb"):
            continue
        path = Path(name)
        for candidate in (path, Path.cwd() / path.name):
            if candidate.exists():
                return candidate.resolve()
    return None
