"""The config file: every mistake is one ConfigError naming the file, the setting and what it takes."""
from __future__ import annotations

import pytest
from support import TEST_KEY

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.config import Session, config_path


def write_config(text):
    config_path().write_text(text, encoding="utf-8")


@pytest.mark.parametrize("text, says", [
    ("routes = 5", "routes = 5 is not valid: it takes tables, one per name, e.g. [routes.NAME]"),
    ("timeout = [1]", "timeout takes a number, not [1]"),
    ("base_url = 5", "base_url takes text (a quoted string), not 5"),
    ('auth = "basic"', "auth takes one of 'bearer', 'raw', not 'basic'"),
    ("max_concurrency = true", "max_concurrency takes a whole number, not True"),
    ('[models."my-model"]\ncontext = "big"', "models.'my-model'.context = 'big' is not valid: it takes a whole number"),
    ('[models."my-model"]\ntool = true', "models.'my-model' has unknown field 'tool'"),
    ("[routes.a]\nmodels = [1]", "routes.a.models = [1] is not valid: it takes a list of model name patterns"),
    ('[routes.a]\nmodels = ["x"]\nauth = "basic"', "routes.a.auth = 'basic' is not valid: it takes 'bearer' or 'raw'"),
    ("[routes.a]\napi_key = 5", "routes.a.api_key is not valid: it takes text"),
])
def test_a_wrong_type_is_one_config_error_naming_file_setting_and_what_it_takes(text, says):
    write_config(text)
    with pytest.raises(errors.ConfigError) as caught:
        Session()
    assert str(caught.value).startswith(f"{config_path()}: ") and says in str(caught.value)
    assert caught.value.__cause__ is None and len(str(caught.value)) < 300


def test_a_route_written_as_one_string_is_one_pattern(llm, emulator):
    """``models = "qwen3-*"`` used to become the patterns q, w, e, n, 3, -, *: the ``*`` then sent
    every model to that route's key and URL."""
    write_config(f'[routes.b]\nmodels = "qwen3-*"\nbase_url = "http://127.0.0.1:1/v1"\napi_key = "{TEST_KEY}-b"\n')
    s = Session()
    assert s.routes["b"].models == ("qwen3-*",)
    assert s.endpoint("qwen3-32b").base_url == "http://127.0.0.1:1/v1"
    assert s.endpoint("qwq-32b").base_url is None and s.endpoint("qwq-32b").api_key is None


def test_a_key_is_stripped_on_every_way_in(monkeypatch):
    write_config(f'[routes.b]\nmodels = ["qwen3-*"]\napi_key = "  {TEST_KEY}\\n"\n')
    monkeypatch.setenv("JUPYTER_LLM_API_KEY", f"{TEST_KEY}\n")
    s = Session()
    assert s.api_key == TEST_KEY and s.endpoint("qwen3-32b").api_key == TEST_KEY
    s.api_key = f"\t{TEST_KEY}\r\n"
    assert s.api_key == TEST_KEY
    monkeypatch.setenv("KEY_C", f" {TEST_KEY} ")
    write_config('[routes.c]\nmodels = ["qwq-*"]\napi_key_env = "KEY_C"\n')
    assert Session().endpoint("qwq-32b").api_key == TEST_KEY


@pytest.mark.parametrize("bad, says", [
    (f"{TEST_KEY}é", "a character outside ASCII (U+00E9) at position"),
    (f"{TEST_KEY[:5]}\n{TEST_KEY[5:]}", "a control character (U+000A) at position 6"),
    (f"Bearer {TEST_KEY}", "a space at position 7"),
])
def test_a_key_no_header_can_carry_is_refused_before_any_request(llm, emulator, bad, says):
    llm.api_key = bad
    with pytest.raises(errors.ConfigError, match=r"api_key holds") as caught:
        jupyter_llm.ask("hi", model="qwen3-32b", display=False)
    assert says in str(caught.value) and TEST_KEY[8:] not in str(caught.value)
    assert not emulator.requests, "nothing was sent"


@pytest.mark.parametrize("headers, says", [
    ({"X-Priority": 5}, "the value of X-Priority must be text, not int"),
    ({"X-Note": "a\nb"}, "the value of X-Note holds a character an HTTP header cannot carry"),
    ({"Bad Name": "x"}, "'Bad Name' is not a valid HTTP header name"),
])
def test_extra_headers_the_http_layer_cannot_send_are_refused(llm, emulator, headers, says):
    with pytest.raises(errors.ConfigError, match=says):
        llm.extra_headers = headers
    with pytest.raises(errors.ConfigError, match=says):
        jupyter_llm.ask("hi", model="qwen3-32b", display=False, extra_headers=headers)
    assert not emulator.requests
