"""one-api's quota, emulated: each key's spending, its two billing routes, and its refusal once spent.

one-api counts quota in money, not tokens: a request costs its tokens times a price. The
``quota`` setting is a key's total in currency units (None: unlimited) and ``price`` what
1,000 tokens cost. The routes answer as one-api's ``controller/billing.go`` does in its
current form: the subscription's ``hard_limit_usd`` is the key's whole quota (what is
left plus what is used, 100000000 for an unlimited key), and ``total_usage`` is what it
has used, in hundredths of the unit. A spent key is refused on every route, these two
included, as one-api's token check refuses it before any route runs.

Keys are never kept: a key's spending is filed under a digest of it.
"""
from __future__ import annotations

import hashlib

from ._errors import ServerError
from ._gateways import FAULTS

#: What one-api reports as the limit of a key with unlimited quota.
UNLIMITED = 100000000
#: Both routes, with and without /v1, as one-api serves them.
ROUTES = {f"{prefix}/dashboard/billing/{name}": name
          for prefix in ("", "/v1") for name in ("subscription", "usage")}


def account(key: str) -> str:
    """The name a key's spending is filed under: a digest, never the key."""
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def check(spent: float, settings: dict) -> None:
    """Refuse, in one-api's words, a key whose quota is spent."""
    quota = settings["quota"]
    if settings["gateway"] == "one-api" and quota is not None and spent >= quota:
        raise FAULTS["quota"](None)


def cost(tokens: int, settings: dict) -> float:
    """What ``tokens`` cost at this model's price."""
    return tokens * settings["price"] / 1000


def answer(route: str, spent: float, settings: dict) -> dict:
    """The body of one billing route for a key that has spent ``spent``."""
    if settings["gateway"] != "one-api":
        # Only one-api has these routes; LiteLLM and the model servers answer 404.
        raise ServerError(404, "Not Found", "invalid_request_error", None, "not_found", fixed=True)
    if route == "usage":
        return {"object": "list", "total_usage": round(spent * 100, 6)}
    quota = settings["quota"]
    total = UNLIMITED if quota is None else quota
    return {"object": "billing_subscription", "has_payment_method": True, "soft_limit_usd": total,
            "hard_limit_usd": total, "system_hard_limit_usd": total, "access_until": 0}
