"""The instructor's system-wide file: defaults for everyone, limits no one may widen, and the
allow-list, checked before anything is sent."""
from __future__ import annotations

import pytest

from jupyter_llm import ask, errors
from jupyter_llm.core.config import Session
from jupyter_llm.core.policy import check_model
from jupyter_llm.core.session import catalog

SYSTEM = """
model = "qwen3-32b"
think = false
allowed_models = ["qwen3-*", "Qwen3-Embedding-8B"]
budget_tokens = 5000
budget_requests = 40
max_concurrency = 2
"""


@pytest.fixture
def system_file(tmp_path, monkeypatch):
    folder = tmp_path / "etc-jupyter"
    folder.mkdir()
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(folder))
    path = folder / "jupyter_llm.toml"
    path.write_text(SYSTEM)
    yield path
    # Before the llm fixture reloads the shared session, so no later test inherits the limits.
    monkeypatch.delenv("JUPYTER_CONFIG_PATH")


def user_file(tmp_path, text: str):
    path = tmp_path / "config.toml"  # JUPYTER_LLM_CONFIG_FILE points here (conftest)
    path.write_text(text)
    return path


def test_the_system_file_gives_defaults_and_limits_and_says_where_they_came_from(system_file):
    session = Session()
    assert session.policy.path == system_file
    assert (session.model, session.think, session.budget_tokens, session.max_concurrency) == ("qwen3-32b", False,
                                                                                              5000, 2)
    assert session.origin("model") == "system config file" and session.origin("timeout") == "default"


def test_a_users_file_may_narrow_the_limits_and_change_defaults_but_not_widen(system_file, tmp_path, heard):
    user_file(tmp_path, 'model = "qwen3-30b-a3b"\nbudget_tokens = 1000\nbudget_requests = 500\n'
                        'max_concurrency = 0\nallowed_models = ["qwen3-32b", "qwq-32b"]\n')
    session = Session()
    assert session.model == "qwen3-30b-a3b" and session.origin("model") == "config file"
    assert session.budget_tokens == 1000  # narrower: taken
    assert session.budget_requests == 40 and session.origin("budget_requests") == "system config file"
    assert session.max_concurrency == 2  # 0 would mean no bound at all
    assert any("budget_requests = 500, above the limit of 40" in line and str(system_file) in line for line in heard)
    # Both allow-lists apply: the user's cannot add qwq-32b, only remove models.
    assert session.allowed_models == ["qwen3-32b", "qwq-32b"]
    with pytest.raises(errors.ModelNotAllowed, match="qwq-32b is not among the models allowed here"):
        check_model(session, "qwq-32b")


def test_a_setting_changed_later_is_held_at_the_limit_with_a_note(system_file, heard):
    session = Session()
    session.set("budget_tokens", "100000")
    assert session.budget_tokens == 5000
    assert heard[-1].startswith("budget_tokens = 100000 would go past the limit of 5000")
    session.budget_tokens = 10
    assert session.budget_tokens == 10
    session.requests_per_minute = 1000  # the file sets no bound on this one
    assert session.requests_per_minute == 1000


def test_without_a_system_file_nothing_is_bounded(tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTER_CONFIG_PATH", str(tmp_path / "nothing-here"))
    session = Session()
    assert session.policy.path is None
    session.budget_tokens = 10**9
    assert session.budget_tokens == 10**9 and session.allowed_models is None


def test_the_allow_list_hides_models_and_refuses_them_before_sending(llm, emulator, system_file):
    llm.reload()
    llm.base_url = emulator.url
    catalog().refresh()
    assert catalog().names() == ["qwen3-32b", "qwen3-30b-a3b", "Qwen3-Embedding-8B"]
    emulator.reset()
    with pytest.raises(errors.ModelNotAllowed) as refused:
        ask("hello", model="qwq-32b", display=False)
    assert refused.value.model == "qwq-32b" and refused.value.allowed == ["qwen3-*", "Qwen3-Embedding-8B"]
    assert "%llm_models lists them" in str(refused.value) and str(system_file) in str(refused.value)
    assert not [r for r in emulator.requests if r["method"] == "POST"]
    from jupyter_llm import rerank

    with pytest.raises(errors.ModelNotAllowed):
        rerank("planets", ["Mars", "bread"], model="bge-reranker-v2-m3")
    assert ask("hello", display=False).model == "qwen3-32b"
    # A batch's rows are coroutines on another path to the gateway: the same check holds there.
    from jupyter_llm import map as llm_map

    emulator.reset()
    with pytest.raises(errors.ModelNotAllowed):
        llm_map(["a row"], "Classify: {text}", model="qwq-32b", cache=False, progress=False)
    assert not [r for r in emulator.requests if r["method"] == "POST"]


def test_allowed_models_is_read_from_text_as_a_magic_gives_it():
    session = Session(load=False)
    session.set("allowed_models", "qwen3-*, Qwen3-Embedding-8B")
    assert session.allowed_models == ["qwen3-*", "Qwen3-Embedding-8B"]
    session.set("allowed_models", "none")
    assert session.allowed_models is None
    with pytest.raises(errors.ConfigError, match="allowed_models takes a list"):
        session.allowed_models = [3]
