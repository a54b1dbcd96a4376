"""Notes: a quiet line for the user that is not an error (a default picked, inputs skipped).

Every note of the package goes through :func:`note`. Outside a kernel it is a line on
stderr; a front end may install its own sink with :func:`set_sink`.
"""
from __future__ import annotations

import sys
from collections.abc import Callable

PREFIX = "jupyter-llm: "
_sink: Callable[[str], None] | None = None


def note(text: str) -> None:
    """Tell the user ``text`` (one line, no prefix needed)."""
    if _sink is not None:
        _sink(text)
    else:
        print(PREFIX + text, file=sys.stderr)


def has_sink() -> bool:
    """True when a front end has installed a sink."""
    return _sink is not None


def set_sink(sink: Callable[[str], None] | None) -> Callable[[str], None] | None:
    """Send notes to ``sink`` from now on (None: back to stderr); returns the previous sink."""
    global _sink
    previous, _sink = _sink, sink
    return previous
