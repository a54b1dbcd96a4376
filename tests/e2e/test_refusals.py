"""Refusals as real gateways send them (one-api, LiteLLM, vLLM), through ask() and map().

Each gives its own typed error with the gateway's words and request id; refusals are not
retried, a busy gateway is. map() stops at once on a refusal that every row would meet.
"""
from __future__ import annotations

import time

import pandas as pd
import pytest

import jupyter_llm
from jupyter_llm import errors

MODEL = "qwen72b-awq"


def chats(emulator, prompt: str | None = None) -> int:
    """Chat requests the emulator received (with ``prompt`` as the last message, if given: rows
    a batch of an earlier test still had on the wire may land after the reset)."""
    return sum(r["path"].endswith("/chat/completions")
               and (prompt is None or r["body"]["messages"][-1]["content"] == prompt) for r in emulator.requests)


#: name -> (X-Emulator header, model asked for, error, words of the message)
REFUSALS = {
    "one-api unknown model": ("", "qwen-72b-awq", errors.ModelNotFound,
                              ("当前分组 default 下对于模型 qwen-72b-awq 无可用渠道", "request id:", "Did you mean 'qwen72b-awq'")),
    "one-api quota spent": ("fault=quota", MODEL, errors.QuotaExceeded, ("该令牌额度已用尽", "request id:", "admin")),
    "one-api token quota spent": ("fault=quota-token", MODEL, errors.QuotaExceeded,
                                  ("令牌 workshop-key（#12）额度已用尽", "quota")),
    "one-api user quota": ("fault=quota-user", MODEL, errors.QuotaExceeded, ("user quota is not enough",)),
    "one-api token quota short": ("fault=quota-pre", MODEL, errors.QuotaExceeded, ("令牌额度不足",)),
    "one-api key groups": ("fault=not-allowed", MODEL, errors.AuthenticationError,
                           ("该令牌无权使用模型：qwen72b-awq", "[routes.NAME]")),
    "LiteLLM unknown model": ("gateway=litellm", "gpt-4o", errors.ModelNotFound,
                              ("Invalid model name passed in model=gpt-4o",)),
    "vLLM unknown model": ("gateway=none", "gpt-4o", errors.ModelNotFound, ("The model `gpt-4o` does not exist.",)),
}


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refusal_through_ask_is_typed_quoted_and_not_retried(llm, emulator, name):
    header, model, error, words = REFUSALS[name]
    llm.extra_headers = {"X-Emulator": header} if header else {}
    llm.max_retries = 2
    with pytest.raises(error) as caught:
        jupyter_llm.ask("hi", model=model, display=False)
    message = str(caught.value)
    for word in words:
        assert word in message
    assert chats(emulator) == 1, "a refusal is not retried"
    if "one-api" in name:
        assert caught.value.request_id and caught.value.request_id in message


@pytest.mark.parametrize("name", list(REFUSALS))
def test_a_refusal_stops_map_at_once(llm, emulator, name):
    header, model, error, _ = REFUSALS[name]
    llm.extra_headers = {"X-Emulator": header} if header else {}
    rows = pd.DataFrame({"text": [f"review {i}" for i in range(40)]})
    with pytest.raises(error):
        jupyter_llm.map(rows, "Classify: {text}", model=model, concurrency=2, progress=False)
    assert chats(emulator) <= 4, "the batch stopped instead of sending every row"


@pytest.mark.parametrize("header", ["fault=busy; fault_times=1", "fault=saturated; fault_times=1",
                                    "fault=litellm-429; fault_times=1"])
def test_a_busy_gateway_is_retried_through_ask(llm, emulator, header):
    llm.extra_headers = {"X-Emulator": header}
    started = time.monotonic()
    reply = jupyter_llm.ask("hi", model=MODEL, display=False)
    assert reply.complete and chats(emulator, "hi") == 2
    if "litellm" in header:
        assert time.monotonic() - started >= 0.2, "LiteLLM's llm_provider-retry-after was honoured"


@pytest.mark.parametrize("fault", ["busy", "saturated", "litellm-429"])
def test_a_busy_gateway_slows_map_but_loses_no_row(llm, emulator, fault):
    llm.extra_headers = {"X-Emulator": f"fault={fault}; fault_times=3"}
    rows = pd.Series([f"review {i}" for i in range(6)])
    out = jupyter_llm.map(rows, "Summarise: {}", model=MODEL, concurrency=2, progress=False)
    assert out.notna().all() and not out.attrs["errors"]


def test_a_gateway_that_stays_busy_ends_in_a_rate_limit_error_after_the_retries(llm, emulator):
    llm.extra_headers = {"X-Emulator": "fault=busy"}
    llm.max_retries = 1
    with pytest.raises(errors.RateLimitError, match=r"429: no message.*after 2 attempts"):
        jupyter_llm.ask("hi", model=MODEL, display=False)
    assert chats(emulator) == 2


def test_one_api_without_a_rerank_route_says_so_and_names_the_setting(llm, emulator):
    llm.extra_headers = {"X-Emulator": "fault=no-route"}
    with pytest.raises(errors.CapabilityError, match=r"no rerank route.*Invalid URL \(POST /v1/rerank\).*\[routes\.rerank\]"):
        jupyter_llm.rerank("a query", ["one", "two"])


def test_a_base_url_without_v1_is_reported_as_a_url_mistake(llm, emulator):
    llm.base_url = emulator.url.removesuffix("/v1")
    with pytest.raises(errors.ConfigError, match=r"the base URL looks wrong.*base_url=.*/v1"):
        jupyter_llm.ask("hi", model=MODEL, display=False)


def test_no_suggestion_when_nothing_is_close(llm, emulator):
    with pytest.raises(errors.ModelNotFound) as caught:
        jupyter_llm.ask("hi", model="gpt-4o", display=False)
    assert "Did you mean" not in str(caught.value)


@pytest.mark.parametrize("bad, words", [({"temperature": -0.5}, "temperature must be a number, 0 or more"),
                                        ({"top_p": 0}, "top_p must be a number above 0"),
                                        ({"top_p": 1.5}, "top_p"), ({"n": 0}, "n must be")])
def test_sampling_values_a_server_refuses_are_refused_before_sending(llm, emulator, bad, words):
    with pytest.raises(errors.ConfigError, match=words):
        jupyter_llm.ask("hi", model=MODEL, display=False, **bad)
    assert chats(emulator) == 0


def test_sampling_values_a_server_refuses_stop_map_before_any_row_is_sent(llm, emulator):
    rows = pd.Series(["a", "b", "c"])
    with pytest.raises(errors.ConfigError, match="top_p"):
        jupyter_llm.map(rows, "Echo: {}", model=MODEL, top_p=0, progress=False)
    assert chats(emulator) == 0
