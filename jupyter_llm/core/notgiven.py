"""``NOT_GIVEN``: tells "the caller passed nothing" apart from ``None``, which means "send none".

``ask(temperature=None)`` sends no temperature at all, while leaving ``temperature`` out
takes the session's setting. The same marker keeps a per-call transport option (a
timeout, the retries) that was not passed from overriding the session's.
"""
from __future__ import annotations


class _NotGiven:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN = _NotGiven()


def given(value, default):
    """``value``, or ``default`` when ``value`` is NOT_GIVEN."""
    return default if value is NOT_GIVEN else value
