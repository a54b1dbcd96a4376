"""The key's quota as one-api reports it, read over HTTP from the emulator: left, spent, unlimited,
in the gateway's own unit, and nothing at all where the gateway has no billing routes."""
from __future__ import annotations

import pytest
from support import closed_url

from jupyter_llm import errors
from jupyter_llm.core import quota
from jupyter_llm.core.quota import Quota


def test_what_is_left_is_the_limit_less_what_was_used(llm, emulator):
    llm.extra_headers = {"X-Emulator": "quota=12.5; price=10"}
    assert str(quota.read(llm)) == "12.50 of 12.50 left (0.00 used)"
    from jupyter_llm import ask

    reply = ask("hello", model="qwen3-32b", think=False, display=False)
    found = quota.read(llm)
    assert found.used == pytest.approx(reply.usage.total_tokens * 10 / 1000)
    assert found.left == pytest.approx(12.5 - found.used) and not found.spent


def test_a_spent_key_reads_as_none_left_and_fetch_raises_quota_exceeded(llm):
    llm.extra_headers = {"X-Emulator": "quota=0"}
    assert quota.read(llm) is quota.SPENT and quota.SPENT.spent
    assert "quota is spent" in str(quota.SPENT)
    with pytest.raises(errors.QuotaExceeded, match="额度已用尽"):
        quota.fetch(llm)


def test_unlimited_keys_and_gateways_without_billing_routes(llm):
    assert quota.read(llm).left is None and str(quota.read(llm)).startswith("unlimited")
    llm.extra_headers = {"X-Emulator": "gateway=litellm"}
    assert quota.fetch(llm) is None and quota.read(llm) is None


def test_nothing_is_asked_when_no_gateway_is_configured_and_a_dead_one_costs_no_error(llm):
    llm.base_url, llm.emulated = None, False
    assert quota.read(llm) is None and llm.emulated is False  # the emulator was not started for it
    llm.emulated = True  # the built-in emulator answering: a test double's quota is not the user's
    assert quota.read(llm) is None
    llm.emulated = False
    llm.base_url = closed_url()
    assert quota.read(llm) is None
    with pytest.raises(errors.ConnectionError):
        quota.fetch(llm)


def test_tokens_left_needs_a_price_and_never_guesses_one():
    found = Quota(total=10.0, used=2.0)
    assert found.tokens_left(None) is None
    assert found.tokens_left(0.002) == 4_000_000
    assert Quota(total=None, used=1.0).tokens_left(0.002) is None
    assert quota.amount(0.000098) == "0.0001" and quota.amount(1234.5) == "1,234.50"
