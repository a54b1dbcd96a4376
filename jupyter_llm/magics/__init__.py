"""The IPython magics: thin adapters that parse what was typed and call the Python API.

``%load_ext jupyter_llm`` calls :func:`register`. It declares every magic without importing
what implements it: each family's module (and the chat machinery behind it) loads the first
time one of its magics is used, so loading the extension stays instant.
"""
from __future__ import annotations

import inspect
import sys

from ..core import notes
from ..display import notes as grey_notes
from . import error_log, tracebacks

#: Each magic, its kind, and the module that registers it when it is first used.
MAGICS = {
    "llm": ("cell", "jupyter_llm.magics.llm"),
    "llm_config": ("line", "jupyter_llm.magics.settings"),
    "llm_models": ("line", "jupyter_llm.magics.settings"),
    "llm_history": ("line", "jupyter_llm.magics.conversations"),
    "llm_reset": ("line", "jupyter_llm.magics.conversations"),
    "llm_explain": ("line", "jupyter_llm.magics.explain"),
    "llm_chat": ("line", "jupyter_llm.magics.panels"),
    "llm_compare": ("cell", "jupyter_llm.magics.panels"),
    "llm_embed": ("line", "jupyter_llm.magics.embed"),
    "llm_cassette": ("line", "jupyter_llm.magics.cassette"),
    "llm_usage": ("line", "jupyter_llm.magics.usage"),
    "llm_log": ("line", "jupyter_llm.magics.log"),
    "llm_cache": ("line", "jupyter_llm.magics.log"),
    "llm_doctor": ("line", "jupyter_llm.magics.doctor"),
}


def register(ipython) -> None:
    """Declare every magic, keep ``Err`` for prompts, show jupyter-llm errors as one line, and
    notes as grey lines in a kernel (elsewhere they stay on stderr)."""
    manager = ipython.magics_manager
    # Older IPython takes no kind: it lists the magic only once loaded, and loads it all the same.
    with_kind = "magic_kind" in inspect.signature(manager.register_lazy).parameters
    for name, (kind, module) in MAGICS.items():
        if with_kind:
            manager.register_lazy(name, module, kind)
        else:
            manager.register_lazy(name, module)
    error_log.install(ipython)
    tracebacks.install(ipython)
    if getattr(ipython, "kernel", None) is not None:
        notes.set_sink(grey_notes.show)
    _accessor_when_pandas_loads(ipython)


def unregister(ipython) -> None:
    """Remove what :func:`register` installed that outlives the magics (hooks, error display)."""
    error_log.uninstall(ipython)
    tracebacks.uninstall(ipython)
    previous = notes.set_sink(None)
    if previous is not grey_notes.show:
        notes.set_sink(previous)  # another front end's sink stays


def _accessor_when_pandas_loads(ipython) -> None:
    """``df.llm`` once the notebook uses pandas: now if it is loaded, else after the cell that loads it."""
    def check(*_) -> bool:
        if "pandas" not in sys.modules:
            return False
        from ..data.accessor import register  # the DataFrame layer: loaded only once pandas is

        register()
        return True

    def after_cell(*_) -> None:
        if check():
            ipython.events.unregister("post_run_cell", after_cell)

    if not check():
        ipython.events.register("post_run_cell", after_cell)
