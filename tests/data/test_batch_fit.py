"""A heavy map() job compared with the quota left at the gateway and the session's budget: through
a price the user gives, never a guessed one."""
from __future__ import annotations

import pytest

import jupyter_llm
from jupyter_llm import errors

ROWS = [f"review number {i}" for i in range(6)]


def heavy(llm, **kw):
    llm.batch_confirm_over = 3
    return jupyter_llm.map(ROWS, "Classify: {text}", model="qwen3-32b", think=False, max_tokens=50, **kw)


def test_without_a_price_the_confirmation_says_the_quota_is_money_and_compares_nothing(llm, emulator):
    llm.extra_headers = {"X-Emulator": "quota=3"}
    with pytest.raises(errors.ConfigError) as asked:
        heavy(llm)
    text = str(asked.value)
    assert "The key's quota at the gateway: 3.00 of 3.00 left (0.00 used). Its unit is money, not tokens" in text
    assert "%llm_config price_per_1k_tokens=P" in text and "confirm=True" in text
    assert not [r for r in emulator.requests if r["method"] == "POST"]


def test_with_a_price_a_job_that_would_not_fit_is_said_so_and_runs_only_when_confirmed(llm, emulator, heard):
    llm.extra_headers = {"X-Emulator": "quota=0.01"}
    llm.price_per_1k_tokens = 0.05  # 0.01 pays for 200 tokens; six rows of 50 need more
    with pytest.raises(errors.ConfigError, match=r"It would not fit in the key's quota: 0.0100 of 0.0100 left "
                                                 r"\(0.00 used\), about 200 tokens at 0.05 per 1,000, and the job "
                                                 r"needs ~3\d\d tokens"):
        heavy(llm)
    result = heavy(llm, confirm=True)
    assert any(line.startswith("It would not fit in the key's quota") and line.endswith("as confirm=True asks.")
               for line in heard)
    assert result.notna().any()


def test_a_job_that_fits_says_so_and_the_budget_is_compared_directly(llm):
    llm.extra_headers = {"X-Emulator": "quota=100"}
    llm.price_per_1k_tokens = 0.001
    with pytest.raises(errors.ConfigError, match="pays for about 100,000,000 tokens at 0.001 per 1,000: "
                                                 "enough for ~3"):
        heavy(llm)
    llm.budget_tokens = 100
    with pytest.raises(errors.ConfigError, match="It would not fit in the session's budget: 100 tokens are left"):
        heavy(llm)
