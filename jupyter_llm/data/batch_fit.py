"""Whether a heavy ``map()`` job fits in what is left: the key's quota at the gateway, and the
session's token budget.

The budget counts tokens, so the job's estimate compares with it directly. The quota is
money in the gateway's unit: it compares with tokens only through ``price_per_1k_tokens``,
which someone who knows the gateway's prices sets. Without it, the line says so and
compares nothing.
"""
from __future__ import annotations

from ..core import budget, quota


def fit(session, tokens: int, *, bounded: bool) -> tuple[list[str], bool]:
    """Sentences on the quota and the budget for a job of about ``tokens`` tokens (at least that
    many when not ``bounded`` by max_tokens), and False when it would not fit in one of them."""
    lines, fits = [], True
    need = f"{'' if bounded else 'at least '}~{tokens:,} tokens"
    if session.budget_tokens is not None:
        left = max(0, session.budget_tokens - budget.spent().tokens)
        if tokens > left:
            fits = False
            lines.append(f"It would not fit in the session's budget: {left:,} tokens are left and the job needs "
                         f"{need}, so it would stop partway.")
    found = quota.read(session)
    if found is None:
        return lines, fits
    if found.left is None:
        lines.append("The key's quota at the gateway is unlimited.")
        return lines, fits
    tokens_left = found.tokens_left(session.price_per_1k_tokens)
    if tokens_left is None:
        lines.append(f"The key's quota at the gateway: {found}. Its unit is money, not tokens: set "
                     f"%llm_config price_per_1k_tokens=P (what 1,000 tokens cost there) to compare it with this job.")
    elif tokens > tokens_left:
        fits = False
        lines.append(f"It would not fit in the key's quota: {found}, about {tokens_left:,} tokens at "
                     f"{session.price_per_1k_tokens:g} per 1,000, and the job needs {need}.")
    else:
        lines.append(f"The key's quota ({found}) pays for about {tokens_left:,} tokens at "
                     f"{session.price_per_1k_tokens:g} per 1,000: enough for {need}.")
    return lines, fits
