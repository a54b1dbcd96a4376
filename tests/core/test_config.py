"""Session settings: sources and their order, routes to several keys, and a repr without the key."""
from __future__ import annotations

import pytest

from jupyter_llm import errors
from jupyter_llm.core.config import Session, config_path
from support import TEST_KEY


def write_config(text):
    config_path().write_text(text, encoding="utf-8")


def test_defaults_without_file_or_environment():
    s = Session()
    assert (s.base_url, s.api_key, s.auth, s.think, s.max_retries) == (None, None, "bearer", None, 2)


def test_file_then_environment_then_assignment(monkeypatch):
    write_config('base_url = "http://file/v1"\nmodel = "qwq-32b"\ntemperature = 0.2\n')
    s = Session()
    assert (s.base_url, s.model, s.temperature) == ("http://file/v1", "qwq-32b", 0.2)
    monkeypatch.setenv("JUPYTER_LLM_BASE_URL", "http://env/v1")
    monkeypatch.setenv("OPENAI_API_KEY", TEST_KEY)
    s = Session()
    assert s.base_url == "http://env/v1" and s.api_key == TEST_KEY
    assert s.source["base_url"] == "JUPYTER_LLM_BASE_URL" and s.source["model"] == "config file"
    s.model = "qwen3-32b"
    assert s.model == "qwen3-32b"


def test_jupyter_llm_variables_win_over_openai_ones(monkeypatch):
    monkeypatch.setenv("OPENAI_BASE_URL", "http://openai/v1")
    monkeypatch.setenv("JUPYTER_LLM_BASE_URL", "http://ours/v1")
    assert Session().base_url == "http://ours/v1"


@pytest.mark.parametrize("name, text, value", [
    ("think", "false", False), ("think", "none", None), ("temperature", "0.5", 0.5),
    ("max_tokens", "100", 100), ("auth", "RAW", "raw"), ("extra_headers", '{"X-A": "1"}', {"X-A": "1"}),
])
def test_text_values_are_coerced(name, text, value):
    s = Session()
    s.set(name, text)
    assert getattr(s, name) == value


def test_bad_values_say_what_is_expected():
    s = Session()
    with pytest.raises(errors.ConfigError, match="true, false or none"):
        s.set("think", "maybe")
    with pytest.raises(errors.ConfigError, match="unknown setting"):
        s.set("modle", "x")
    with pytest.raises(Exception, match="bearer|raw"):
        s.set("auth", "basic")


def test_unknown_or_broken_config_file_is_a_clear_error():
    write_config("modle = 1\n")
    with pytest.raises(errors.ConfigError, match="unknown setting"):
        Session()
    write_config("base_url = \n")
    with pytest.raises(errors.ConfigError, match="not valid TOML"):
        Session()


def test_routes_send_a_model_group_to_its_own_key(monkeypatch):
    monkeypatch.setenv("GROUP_B_KEY", "sk-group-b-key-000")
    write_config(
        'base_url = "http://gw/v1"\napi_key = "sk-group-a-key-000"\n'
        '[routes.b]\nmodels = ["qwen3-*"]\napi_key_env = "GROUP_B_KEY"\nauth = "raw"\n'
    )
    s = Session()
    assert s.endpoint("qwq-32b").api_key == "sk-group-a-key-000"
    b = s.endpoint("qwen3-32b")
    assert (b.api_key, b.auth, b.base_url) == ("sk-group-b-key-000", "raw", "http://gw/v1")
    assert set(s.secrets()) == {"sk-group-a-key-000", "sk-group-b-key-000"}


def test_no_representation_shows_the_key(monkeypatch):
    monkeypatch.setenv("JUPYTER_LLM_API_KEY", TEST_KEY)
    monkeypatch.setenv("JUPYTER_LLM_BASE_URL", "http://gw/v1")
    s = Session()
    shown = repr(s) + str(s) + str(s._repr_mimebundle_()) + repr(s.endpoint("m")) + str(s.as_dict())
    assert TEST_KEY not in shown and "JLLM-0123456789" not in shown
    assert "(set)" in repr(s)


def test_load_settings_take_text_and_refuse_negatives():
    from jupyter_llm import errors
    from jupyter_llm.core.config import Session

    session = Session(load=False)
    session.set("max_concurrency", "4")
    session.set("requests_per_minute", "none")
    session.set("tokens_per_minute", "90000")
    assert (session.max_concurrency, session.requests_per_minute, session.tokens_per_minute) == (4, None, 90000)
    try:
        session.set("batch_confirm_over", "-1")
    except errors.ConfigError as exc:
        assert "batch_confirm_over must be 0 or more" in str(exc)
    else:
        raise AssertionError("a negative threshold was accepted")
