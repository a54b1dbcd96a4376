"""The one place where the session and its model catalogue are looked up.

``jupyter_llm.session`` is :func:`current`. Code in the package takes a session as an
argument where it can, and asks here where it cannot; nothing imports it from the
package root.
"""
from __future__ import annotations

import threading

from . import limiter
from .catalog import Catalog
from .config import Session

_lock = threading.Lock()
_session: Session | None = None
_catalogs: dict[int, Catalog] = {}


def current() -> Session:
    """The kernel's session (read from the config file and environment on first use)."""
    global _session
    if _session is None:
        with _lock:
            if _session is None:
                _session = Session()
                limiter.follow(lambda: _limits(_session))
    return _session


def _limits(session: Session) -> tuple:
    return session.max_concurrency, session.requests_per_minute, session.tokens_per_minute


def catalog(session: Session | None = None) -> Catalog:
    """The model catalogue of ``session`` (default: the current one); it follows the session's
    gateway settings, so changing the URL or key forgets the old model list."""
    session = session or current()
    found = _catalogs.get(id(session))
    if found is None or found.session is not session:
        with _lock:
            found = _catalogs[id(session)] = Catalog(session)
    return found
