"""The session's one look-up place, and a catalogue that follows the session's gateway."""
from __future__ import annotations

import jupyter_llm
from jupyter_llm.core.session import catalog, current
from jupyter_llm.emulator import start


def test_the_package_session_is_the_current_one():
    assert jupyter_llm.session is current()


def test_the_catalogue_follows_a_new_base_url_without_a_refresh(llm):
    assert "qwen3-32b" in catalog().names()
    with start(models={"qwen3-32b": None, "only-here": {}}) as other:
        llm.base_url = other.url
        names = catalog().names()
        assert "only-here" in names and "qwen3-32b" not in names
