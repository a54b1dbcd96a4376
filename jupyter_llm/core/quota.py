"""The API key's quota at the gateway, as one-api reports it on its two billing routes.

``GET /v1/dashboard/billing/subscription`` gives the key's limit (``hard_limit_usd``) and
``GET /v1/dashboard/billing/usage`` what it has used (``total_usage``, in hundredths).
one-api's quota is money, not tokens, in whatever unit its admin displays: the numbers
are shown as they come, and compared with tokens only through ``price_per_1k_tokens``,
a setting someone who knows the gateway's prices gives. No conversion is guessed.

one-api's current source reports the whole quota as the limit (what is left plus what is
used); older releases reported only what is left there. ``left`` follows the current form,
and the three numbers are always shown together, so a reader can tell.

The routes are asked live, never through a cassette: a quota recorded yesterday says
nothing about today. Other gateways (LiteLLM, vLLM itself) have no such routes: then
there is no quota to show, and :func:`read` says so with None.

Example::

    from jupyter_llm.core import quota
    quota.read(jupyter_llm.session)        # Quota(total=12.5, used=2.5) -> "10.00 of 12.50 left"
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import errors
from .client import Client, http_transport

#: What one-api reports as the limit of a key with unlimited quota.
UNLIMITED = 100000000
#: Seconds to wait for each route: showing usage must not hang on a slow gateway.
TIMEOUT = 3.0


@dataclass(frozen=True, slots=True)
class Quota:
    """A key's quota in the gateway's own unit: ``total`` (None: unlimited) and ``used``."""

    total: float | None
    used: float

    @property
    def left(self) -> float | None:
        """What is left (None: unlimited)."""
        return None if self.total is None else max(0.0, self.total - self.used)

    @property
    def spent(self) -> bool:
        return self.left is not None and self.left <= 0

    def tokens_left(self, price_per_1k: float | None) -> int | None:
        """The tokens what is left pays for at ``price_per_1k`` (None: unlimited, or no price given)."""
        if self.left is None or not price_per_1k:
            return None
        return round(self.left / price_per_1k * 1000)

    def __str__(self) -> str:
        if self.total == 0:
            return "none left: the gateway refuses this key, its quota is spent"
        if self.total is None:
            return f"unlimited ({amount(self.used)} used)"
        return f"{amount(self.left)} of {amount(self.total)} left ({amount(self.used)} used)"


#: What a key the gateway refuses for its spent quota has left (one-api refuses the billing routes too).
SPENT = Quota(total=0.0, used=0.0)


def amount(value: float) -> str:
    """A quota amount as a person reads it: two decimals, four below one."""
    return f"{value:,.2f}" if value >= 1 or value == 0 else f"{value:.4f}"


def fetch(session, *, timeout: float = TIMEOUT) -> Quota | None:
    """The key's quota, asked of the gateway now; None when it has no billing routes.

    Raises the gateway's refusal as usual: :class:`~jupyter_llm.errors.QuotaExceeded` when
    the quota is spent (one-api refuses every route then), ``AuthenticationError`` for a
    wrong key, ``ConnectionError`` when it cannot be reached.
    """
    client = Client(session, timeout=timeout, max_retries=0, transport=http_transport())
    bodies = []
    for route in ("subscription", "usage"):
        request = client.request("billing", {"route": route}, model=session.model)
        try:
            body = client.transport.handle(request)
        except errors.ConfigError as exc:
            if exc.status_code == 404:
                return None  # LiteLLM and the model servers have no billing routes
            raise
        if isinstance(body, dict) and isinstance(body.get("error"), dict):
            # one-api answers its failures here with status 200 and an error body.
            said = errors.redact(str(body["error"].get("message") or "no message"), request.all_secrets())
            raise errors.GatewayError(f"The gateway could not report the key's quota ({said}). Ask its admin "
                                      f"if this persists; requests may still work.")
        bodies.append(body)
    subscription, usage = bodies
    try:
        total = float(subscription["hard_limit_usd"])
        used = float(usage["total_usage"]) / 100
    except (TypeError, KeyError, ValueError):
        return None  # a route of that name that is not one-api's
    return Quota(total=None if total >= UNLIMITED else total, used=used)


def read(session) -> Quota | None:
    """The key's quota, or None when it cannot be known: no billing routes, no gateway configured
    (the built-in emulator, a test double, has no quota worth showing), or no answer in time."""
    if session.endpoint(session.model).base_url is None:
        return None
    try:
        return fetch(session)
    except errors.QuotaExceeded:
        return SPENT
    except errors.LLMError:
        return None
