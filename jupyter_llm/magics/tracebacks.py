"""How a jupyter-llm error shows in a notebook: one line that says what to do, not a traceback.

A gateway refusal is not a bug in the user's code, so the stack above it helps nobody. Set
``JUPYTER_LLM_DEBUG=1`` (before ``%load_ext``, or at any time) to see full tracebacks
again, for a bug report. Either way no key is shown: errors are written without it, and
the causes they chain carry no frames of the HTTP layer.
"""
from __future__ import annotations

import os

from .. import errors

DEBUG_VARIABLE = "JUPYTER_LLM_DEBUG"


def debugging() -> bool:
    """True when ``JUPYTER_LLM_DEBUG`` asks for full tracebacks."""
    return os.environ.get(DEBUG_VARIABLE, "").strip().lower() not in ("", "0", "false", "no", "off")


def short_traceback(shell, etype, value, tb, tb_offset=None):
    """IPython's custom exception handler for jupyter-llm's errors and interrupted replies."""
    if debugging():
        return shell.showtraceback((etype, value, tb), tb_offset=tb_offset)
    # An interrupt keeps its usual name: front ends and nbval recognise a KeyboardInterrupt.
    if issubclass(etype, KeyboardInterrupt):
        etype = KeyboardInterrupt
    # IPython leaves showing it to the handler; _showtraceback is what sends the error message.
    stb = [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"]
    shell._showtraceback(etype, value, stb)
    return stb


def install(ipython) -> None:
    """Show jupyter-llm errors as one line, unless another extension handles exceptions already."""
    if not ipython.custom_exceptions:
        ipython.set_custom_exc((errors.LLMError, errors.Interrupted), short_traceback)


def uninstall(ipython) -> None:
    if errors.LLMError in ipython.custom_exceptions:
        ipython.set_custom_exc((), None)
