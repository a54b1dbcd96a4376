"""Shared fixtures: a live gateway emulator on loopback and a real IPython kernel."""
from __future__ import annotations

import os

import pytest

from support import TEST_KEY, Kernel, kernel_environment


@pytest.fixture(scope="session")
def emulator():
    """An in-process gateway emulator on 127.0.0.1, shared by the whole test run."""
    from jupyter_llm.emulator import start

    server = start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _isolated_config(tmp_path, monkeypatch):
    """Keep the developer's own config file and environment out of every test."""
    for name in list(os.environ):
        if name.startswith(("JUPYTER_LLM_", "OPENAI_")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("JUPYTER_LLM_CONFIG_FILE", str(tmp_path / "config.toml"))
    monkeypatch.setenv("JUPYTER_LLM_DATA_DIR", str(tmp_path / "data"))


@pytest.fixture
def llm(emulator):
    """``jupyter_llm.session`` pointed at the emulator with TEST_KEY; request log and caches cleared."""
    from jupyter_llm.core import budget, limiter, usage
    from jupyter_llm.core.session import catalog, current
    from jupyter_llm.data import batch_job
    from jupyter_llm.data.embeddings import clear_cache

    session = current()
    session.reload()
    session.base_url, session.api_key = emulator.url, TEST_KEY
    catalog().refresh()
    clear_cache()
    batch_job.clear_cache()
    limiter.shared().reset()
    usage.clear()
    budget.reset()
    emulator.reset()
    yield session
    session.reload()
    catalog().refresh()


@pytest.fixture
def heard():
    """The notes the package says during the test, in order (core/notes.note)."""
    from jupyter_llm.core import notes

    said: list[str] = []
    previous = notes.set_sink(said.append)
    yield said
    notes.set_sink(previous)


@pytest.fixture
def kernel_env(emulator, tmp_path):
    return kernel_environment(emulator.url, tmp_path / "config.toml")


@pytest.fixture
def kernel(kernel_env):
    """A fresh kernel whose session points at the emulator with TEST_KEY."""
    k = Kernel(kernel_env)
    yield k
    k.shutdown()
