"""jupyter-llm: call the models behind an OpenAI-compatible gateway from Jupyter.

In a notebook::

    %load_ext jupyter_llm

    %%llm -m qwen3-32b
    Explain what {df.shape} means for this data frame.

From Python::

    import jupyter_llm
    reply = jupyter_llm.ask("Name three prime numbers.", display=False)

Heavy modules (openai, pandas, ipywidgets) load on first use, so ``%load_ext`` is instant.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# jupyter_llm.map is public too, but not in __all__: `from jupyter_llm import *` would
# replace Python's own map() in the notebook.
__all__ = [
    "session",
    "ask",
    "Reply",
    "Conversation",
    "tool",
    "errors",
    "embed",
    "similar",
    "search",
    "vectors",
    "rerank",
    "plot_embeddings",
    "cassette",
    "log",
    "ChatPanel",
    "SettingsPanel",
    "ComparePanel",
    "compare",
    "load_ipython_extension",
    "__version__",
]

if TYPE_CHECKING:
    from . import errors
    from .api import Conversation, ask
    from .core import cassette
    from .core.config import Session
    from .data.batch import map as map  # public, though not in __all__
    from .data.calls import log
    from .data.embeddings import embed, search, similar, vectors
    from .data.projection import plot_embeddings
    from .core.reply import Reply
    from .data.rerank import rerank
    from .core.tools import tool
    from .widgets.chat import ChatPanel
    from .widgets.compare import ComparePanel, compare
    from .widgets.settings import SettingsPanel

    session: Session

_LAZY = {
    "ask": ("api", "ask"),
    "Reply": ("core.reply", "Reply"),
    "Conversation": ("api", "Conversation"),
    "tool": ("core.tools", "tool"),
    "errors": ("errors", None),
    "embed": ("data.embeddings", "embed"),
    "similar": ("data.embeddings", "similar"),
    "search": ("data.embeddings", "search"),
    "vectors": ("data.embeddings", "vectors"),
    "rerank": ("data.rerank", "rerank"),
    "plot_embeddings": ("data.projection", "plot_embeddings"),
    # The module itself: calling it, jupyter_llm.cassette(path, mode), opens a cassette.
    "cassette": ("core.cassette", None),
    "log": ("data.calls", "log"),
    "map": ("data.batch", "map"),
    "ChatPanel": ("widgets.chat", "ChatPanel"),
    "SettingsPanel": ("widgets.settings", "SettingsPanel"),
    "ComparePanel": ("widgets.compare", "ComparePanel"),
    "compare": ("widgets.compare", "compare"),
}


def __getattr__(name: str):
    if name == "session":
        from .core.session import current

        value = current()
    elif name in _LAZY:
        module, attr = _LAZY[name]
        module = importlib.import_module(f".{module}", __name__)
        value = module if attr is None else getattr(module, attr)
    else:
        raise AttributeError(f"module 'jupyter_llm' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__) | set(_LAZY))


def load_ipython_extension(ipython) -> None:
    """Register the magics: ``%load_ext jupyter_llm``."""
    from .magics import register

    register(ipython)


def unload_ipython_extension(ipython) -> None:
    """Remove what ``load_ipython_extension`` installed (``%unload_ext jupyter_llm``)."""
    from .magics import unregister

    unregister(ipython)


def _grey_note(text: str) -> None:
    from .display.notes import show  # display code loads with the first note, not with the package

    show(text)


def _notes_grey_in_a_kernel() -> None:
    """A kernel that imports the package without ``%load_ext`` still gets notes as grey
    lines: on stderr a front end shows them red, like errors."""
    from .core import kernel, notes

    if kernel.in_kernel() and not notes.has_sink():
        notes.set_sink(_grey_note)


_notes_grey_in_a_kernel()
