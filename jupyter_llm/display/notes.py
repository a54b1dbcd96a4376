"""Notes in a notebook: a quiet grey line in the output area, not a red stderr line.

The extension installs :func:`show` as the notes sink in a kernel (``%load_ext``). Each
note is one ``display_data``: the line as plain text, for a saved notebook and nbval,
and the same line small and grey in HTML.
"""
from __future__ import annotations

from IPython.display import display

from ..core.notes import PREFIX
from .html import usage_bundle


def bundle(text: str) -> dict:
    """The outputs of one note: the same small grey line as a reply's usage line."""
    return usage_bundle(PREFIX + text)


def show(text: str) -> None:
    """Show one note in the current cell's output area."""
    display(bundle(text), raw=True)
