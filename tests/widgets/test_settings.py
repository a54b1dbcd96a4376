"""The settings panel in a real kernel: a change in the panel is a change of the session."""
from __future__ import annotations


import pytest

from support import kernel_value as value, TEST_KEY

pytestmark = pytest.mark.timeout(180)


@pytest.fixture
def k(kernel):
    kernel.run("%load_ext jupyter_llm\nimport json, jupyter_llm")
    return kernel


def test_llm_config_without_arguments_is_the_panel_and_its_changes_reach_llm(k, emulator):
    shown = k.run("%llm_config")
    data = [m["content"]["data"] for m in shown.messages if m["msg_type"] == "display_data"][0]
    # A widget view, and the settings table for a notebook opened without a kernel.
    assert "application/vnd.jupyter.widget-view+json" in data
    assert "base_url" in data["text/plain"] and "<table>" in data["text/html"]
    k.run("from jupyter_llm import SettingsPanel\npanel = SettingsPanel()\n"
          "panel.model.value = 'qwen72b-awq'\npanel.fields['temperature'].value = '0.3'\n"
          "panel.fields['max_tokens'].value = '50'")
    assert value(k, "[jupyter_llm.session.model, jupyter_llm.session.temperature, jupyter_llm.session.max_tokens]") \
        == ["qwen72b-awq", 0.3, 50]
    emulator.reset()
    result = k.run("%%llm\nhello")
    assert result.error is None
    body = emulator.requests[-1]["body"]
    assert (body["model"], body["temperature"], body["max_tokens"]) == ("qwen72b-awq", 0.3, 50)
    # Changes made elsewhere show in the panel; bad values are refused with the reason, in the panel.
    k.run("%llm_config temperature=0.9")
    assert value(k, "panel.fields['temperature'].value") == "0.9"
    k.run("panel.fields['timeout'].value = 'soon'")
    assert "timeout takes a number" in value(k, "panel.status.value")
    assert value(k, "[panel.fields['timeout'].value, jupyter_llm.session.timeout]") == ["120", 120.0]


def test_the_key_is_taken_and_forgotten_by_the_field(k, emulator):
    k.run("from jupyter_llm import SettingsPanel\njupyter_llm.session.api_key = None\npanel = SettingsPanel()")
    # As the browser sends it: a comm update of the field's value (the key comes from the environment here).
    typed = k.run("import os\npanel.api_key._handle_msg({'content': {'data': {'method': 'update', 'buffer_paths': [], "
                  "'state': {'value': os.environ['JUPYTER_LLM_API_KEY']}}}, 'buffers': []})")
    assert typed.error is None and value(k, "panel.api_key.value") == ""
    assert value(k, "jupyter_llm.session.api_key == os.environ['JUPYTER_LLM_API_KEY']") is True
    assert "set (hidden)" in value(k, "panel.key_state.value")
    later = k.run("panel\npanel.test_button.click()\nawait panel._test()")
    assert "chat models: qwq-32b" in value(k, "panel.status.value")
    for result in (typed, later):
        # What the front end receives after the key is typed: never the key.
        assert TEST_KEY not in result.text() and "JLLM-0123456789" not in result.text()


def test_test_connection_shows_the_error_in_the_panel(k):
    k.run("from jupyter_llm import SettingsPanel\npanel = SettingsPanel()\n"
          "panel.base_url.value = 'http://127.0.0.1:9/v1'\njupyter_llm.session.max_retries = 0")
    result = k.run("await panel._test()")
    assert result.error is None
    status = value(k, "panel.status.value")
    assert "ConnectionError" in status and "127.0.0.1:9" in status
