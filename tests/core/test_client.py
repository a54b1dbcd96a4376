"""The client: per-call transport options change the transport and never reach the body."""
from __future__ import annotations

import pytest
from support import TEST_KEY

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.client import Client

MODEL = "qwen72b-awq"


def chats(emulator) -> list[dict]:
    return [r for r in emulator.requests if r["path"].endswith("/chat/completions")]


def test_max_retries_per_call_changes_the_retries_and_is_not_sent(llm, emulator):
    llm.max_retries = 2
    llm.extra_headers = {"X-Emulator": "fault=500"}
    with pytest.raises(errors.GatewayError):
        jupyter_llm.ask("hi", model=MODEL, display=False, max_retries=0)
    assert len(chats(emulator)) == 1, "max_retries=0: one request, no retry"
    assert "max_retries" not in chats(emulator)[0]["body"]


def test_timeout_and_headers_per_call_travel_beside_the_body(llm, emulator):
    reply = jupyter_llm.ask("hi", model=MODEL, display=False, timeout=30,
                            extra_headers={"X-Emulator": "answer_tokens=3"})
    sent = chats(emulator)[-1]
    assert reply.usage.completion_tokens == 3, "the header reached the server"
    assert not {"timeout", "extra_headers"} & set(sent["body"])
    assert llm.timeout == 120 and llm.extra_headers == {}, "the session is unchanged"


def test_temperature_none_sends_none_and_leaving_it_out_takes_the_session(llm, emulator):
    llm.temperature = 0.3
    jupyter_llm.ask("hi", model=MODEL, display=False)
    assert chats(emulator)[-1]["body"]["temperature"] == 0.3
    jupyter_llm.ask("hi", model=MODEL, display=False, temperature=None)
    assert "temperature" not in chats(emulator)[-1]["body"]
    jupyter_llm.ask("hi", model=MODEL, display=False, temperature=0.9)
    assert chats(emulator)[-1]["body"]["temperature"] == 0.9


@pytest.mark.parametrize("bad", [{"max_retries": -1}, {"max_retries": 1.5}, {"timeout": 0}, {"timeout": "soon"}])
def test_bad_transport_options_are_refused_before_sending(llm, emulator, bad):
    with pytest.raises(errors.ConfigError):
        jupyter_llm.ask("hi", model=MODEL, display=False, **bad)
    assert not chats(emulator)


def test_an_unconfigured_session_is_answered_by_the_built_in_emulator_once_announced(capsys):
    from jupyter_llm.core.config import Session

    session = Session(load=False)
    endpoint = Client(session).endpoint("qwen3-32b")
    assert endpoint.base_url.startswith("http://127.0.0.1:") and session.emulated
    Client(session).endpoint("qwen3-32b")
    told = capsys.readouterr().err
    assert told.count("no gateway configured") == 1
    assert "%llm_config base_url=" in told and "JUPYTER_LLM_BASE_URL" in told, "it says how to connect"
    assert session.endpoint("qwen3-32b").base_url is None, "the session's own lookup starts nothing"


@pytest.mark.parametrize("mode", ["replay", "record"])
def test_a_cassette_names_itself_instead_of_the_emulator_notice(capsys, tmp_path, mode):
    from jupyter_llm.core import cassette
    from jupyter_llm.core.config import Session

    session = Session(load=False)
    with cassette.Cassette(tmp_path / "x.llm.jsonl", mode):
        Client(session).endpoint("qwen3-32b")
    assert "no gateway configured" not in capsys.readouterr().err
    assert not session.emulated, "not told yet: the notice still comes once the cassette is gone"
    Client(session).endpoint("qwen3-32b")
    assert capsys.readouterr().err.count("no gateway configured") == 1


def test_translated_errors_chain_a_cause_without_frames_or_key(llm, emulator):
    llm.base_url = "http://127.0.0.1:9/v1"
    with pytest.raises(errors.ConnectionError) as caught:
        jupyter_llm.ask("hi", model=MODEL, display=False, max_retries=0)
    cause = caught.value.__cause__
    assert isinstance(cause, errors.Cause) and cause.__traceback__ is None
    assert "openai" in str(cause) and TEST_KEY not in str(cause)
    assert caught.value.__suppress_context__
