"""one-api's quota in the emulator: the two billing routes, a quota its requests use up, and the
refusal of a spent key on every route, as one-api's token check refuses it."""
from __future__ import annotations

import json
import urllib.request

import openai
import pytest

from jupyter_llm.emulator import start

KEY, OTHER = "sk-test-JLLM-billing-0123456789-abcdef", "sk-test-JLLM-billing-other-99"
ASK = [{"role": "user", "content": "hello"}]


@pytest.fixture(scope="module")
def billed():
    with start(quota=0.01, price=0.02) as server:
        yield server


def client(em, key: str = KEY) -> openai.OpenAI:
    return openai.OpenAI(base_url=em.url, api_key=key, max_retries=0)


def billing(em, route: str, key: str = KEY) -> dict:
    return client(em, key).get(f"/dashboard/billing/{route}", cast_to=object)


def test_the_routes_answer_in_one_apis_shape_and_requests_use_the_quota_up(billed):
    billed.reset()
    subscription = billing(billed, "subscription")
    assert subscription == {"object": "billing_subscription", "has_payment_method": True, "soft_limit_usd": 0.01,
                            "hard_limit_usd": 0.01, "system_hard_limit_usd": 0.01, "access_until": 0}
    assert billing(billed, "usage") == {"object": "list", "total_usage": 0.0}
    reply = client(billed).chat.completions.create(model="qwen3-32b", messages=ASK)
    used = billing(billed, "usage")["total_usage"] / 100
    # one-api's quota is money: the reply's tokens at the model's price.
    assert used == pytest.approx(reply.usage.total_tokens * 0.02 / 1000)
    assert billing(billed, "subscription")["hard_limit_usd"] == 0.01  # the whole quota, used or not
    # Each key has its own; the route without /v1 answers too, as one-api's does.
    request = urllib.request.Request(billed.url.removesuffix("/v1") + "/dashboard/billing/usage",
                                     headers={"Authorization": f"Bearer {OTHER}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.loads(response.read())["total_usage"] == 0.0


def test_a_spent_key_is_refused_everywhere_in_one_apis_words_and_other_keys_are_not(billed):
    billed.reset()
    spender = client(billed)
    spender.chat.completions.create(model="qwen3-32b", messages=ASK)
    spender.embeddings.create(model="Qwen3-Embedding-8B", input=["a long text " * 200])
    for call in (lambda: spender.chat.completions.create(model="qwen3-32b", messages=ASK),
                 lambda: spender.models.list(), lambda: billing(billed, "subscription")):
        with pytest.raises(openai.AuthenticationError) as caught:
            call()
        assert caught.value.status_code == 401 and "该令牌额度已用尽" in caught.value.message
    assert client(billed, OTHER).models.list().data
    # The emulator keeps no key: spending is filed under a digest.
    assert KEY not in json.dumps(billed._state.spent) and KEY not in str(billed.requests)


def test_unlimited_by_default_and_no_routes_behind_other_gateways(emulator):
    assert billing(emulator, "subscription")["hard_limit_usd"] == 100000000
    litellm = openai.OpenAI(base_url=emulator.url, api_key=KEY, max_retries=0,
                            default_headers={"X-Emulator": "gateway=litellm"})
    with pytest.raises(openai.NotFoundError):
        litellm.get("/dashboard/billing/usage", cast_to=object)
    # A per-request quota, as a test or a demo can set it.
    limited = openai.OpenAI(base_url=emulator.url, api_key=KEY, max_retries=0,
                            default_headers={"X-Emulator": "quota=2.5"})
    assert limited.get("/dashboard/billing/subscription", cast_to=object)["hard_limit_usd"] == 2.5
