"""The session's budget: the tokens and requests it may send to the gateway in all.

``budget_requests`` and ``budget_tokens`` are session settings (an instructor's system
config file can set them for everyone, see :mod:`.policy`). :class:`BudgetTransport` sits
between the cassette and HTTP, so only what reaches the gateway counts: a replayed answer
is free. A request that would go over is refused before it is sent, with
:class:`~jupyter_llm.errors.BudgetExceeded`. A reply that crosses ``budget_tokens`` while it
streams is stopped there, and the text that arrived is kept in the error's ``.reply``.

Tokens are the server's count (its usage) where it gives one, else the local estimate of
:mod:`.tokens`; they are counted while a token budget is set. The count lasts as long as
the kernel: a restart starts a fresh budget.

Example::

    jupyter_llm.session.budget_tokens = 20_000
    %llm_usage          # ... budget: 18,734 of 20,000 tokens left
"""
from __future__ import annotations

import threading
from dataclasses import dataclass

from .. import errors
from .tokens import estimate_messages, estimate_tokens
from .transport import Request, Transport

#: Requests that spend the budget: the ones a model answers.
COUNTED = ("chat", "embeddings", "rerank")
#: Where a streamed reply's text is.
_TEXT = frozenset(("content", "reasoning", "reasoning_content"))
#: Tokens a reply counts on its own before it adds them to the session's count.
_PUBLISH = 64


@dataclass
class Spent:
    """What this kernel has sent to the gateway: requests, and tokens while a token budget was set."""

    requests: int = 0
    tokens: int = 0


_lock = threading.Lock()
_spent = Spent()


def spent() -> Spent:
    """A copy of what has been spent so far."""
    with _lock:
        return Spent(_spent.requests, _spent.tokens)


def reset() -> None:
    """Start the budget afresh (a kernel restart does the same)."""
    with _lock:
        _spent.requests = _spent.tokens = 0


def left(session) -> list[str]:
    """What is left of each budget the session sets, one line each (none: no budget)."""
    now = spent()
    lines = []
    if session.budget_tokens is not None:
        rest = max(0, session.budget_tokens - now.tokens)
        lines.append(f"budget: {rest:,} of {session.budget_tokens:,} tokens left")
    if session.budget_requests is not None:
        rest = max(0, session.budget_requests - now.requests)
        lines.append(f"budget: {rest:,} of {session.budget_requests:,} requests left")
    return lines


def _add(tokens: int) -> int:
    with _lock:
        _spent.tokens += tokens
        return _spent.tokens


class BudgetTransport(Transport):
    """Refuses what would go over the session's budget and counts what is sent; ``inner`` sends it."""

    def __init__(self, inner: Transport, session):
        self.inner = inner
        self.session = session

    def handle(self, request: Request):
        metered = self._start(request)
        if metered is None:
            return self.inner.handle(request)
        if request.kind == "chat":
            return self._metered(request, metered)
        return metered.settle(self.inner.handle(request))

    async def handle_async(self, request: Request):
        """:meth:`handle` from a coroutine (a batch's rows): the same admission and the same count."""
        metered = self._start(request)
        if metered is None:
            return await self.inner.handle_async(request)
        answer = await self.inner.handle_async(request)
        if request.kind == "chat":
            return self._metered_async(answer, metered)
        return metered.settle(answer)

    def prepare(self, request: Request) -> None:
        self.inner.prepare(request)

    def close(self) -> None:
        self.inner.close()

    def _start(self, request: Request) -> _Meter | None:
        """Admit ``request`` (or raise) and count it; the meter for its tokens, None if none are counted."""
        if request.kind not in COUNTED:
            return None
        tokens_budget = self.session.budget_tokens
        estimate = _estimate(request) if tokens_budget is not None else 0
        self._admit(request, estimate, tokens_budget)
        if tokens_budget is None:
            return None
        _add(estimate)
        return _Meter(request, estimate, tokens_budget, self.session)

    def _admit(self, request: Request, estimate: int, tokens_budget: int | None) -> None:
        with _lock:
            requests_budget = self.session.budget_requests
            if requests_budget is not None and _spent.requests + 1 > requests_budget:
                raise errors.BudgetExceeded(
                    f"This session's budget of {requests_budget:,} requests is spent ({_spent.requests:,} sent): "
                    f"nothing was sent to {request.model or 'the gateway'}. {_more(self.session, 'budget_requests')}")
            if tokens_budget is not None and _spent.tokens + estimate > tokens_budget:
                raise errors.BudgetExceeded(
                    f"This request needs about {estimate:,} tokens and the session's budget has "
                    f"{max(0, tokens_budget - _spent.tokens):,} of {tokens_budget:,} left: nothing was sent to "
                    f"{request.model or 'the gateway'}. {_more(self.session, 'budget_tokens')}")
            _spent.requests += 1

    def _metered(self, request: Request, meter: _Meter):
        chunks = self.inner.handle(request)
        try:
            for chunk in chunks:
                meter.see(chunk)
                yield chunk
        finally:
            meter.publish()
            chunks.close()

    async def _metered_async(self, chunks, meter: _Meter):
        try:
            async for chunk in chunks:
                meter.see(chunk)
                yield chunk
        finally:
            meter.publish()
            await chunks.aclose()


class _Meter:
    """The token count of one admitted request, its estimate already spent: a streamed reply
    chunk by chunk (stopped where it crosses the budget), any other answer by its usage.

    A reply streams a thousand chunks or more, so :meth:`see` takes no lock: it keeps this
    reply's count and hands it to the shared one every ``_PUBLISH`` tokens and at the end.
    The crossing is exact for one reply; replies streaming at once see each other's tokens
    up to ``_PUBLISH`` late.
    """

    def __init__(self, request: Request, estimate: int, budget: int, session):
        self.request, self.counted, self.budget, self.session = request, estimate, budget, session
        self.pending = 0  # counted here, not yet added to the shared count

    def see(self, chunk: dict) -> None:
        usage = chunk.get("usage")
        if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
            # The server's own count replaces the estimate made while the reply streamed.
            self.publish()
            _add(usage["total_tokens"] - self.counted)
            self.counted = usage["total_tokens"]
            return
        tokens = 0
        # Inline, not in helpers: this runs for every chunk, and a call costs more than the count.
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta")
            if not delta:
                continue
            for key, value in delta.items():
                if key in _TEXT:
                    if value.__class__ is str and value:
                        tokens += (len(value) + 3) // 4 if value.isascii() else estimate_tokens(value)
                elif key == "tool_calls" and value:
                    tokens += _arguments_tokens(value)
        if tokens:
            self.pending += tokens
            if self.pending >= _PUBLISH or _spent.tokens + self.pending > self.budget:
                self._check()

    def _check(self) -> None:
        self.publish()
        if _spent.tokens > self.budget:
            raise errors.BudgetExceeded(
                f"The reply from {self.request.model} was stopped at the session's budget of {self.budget:,} "
                f"tokens. The text that arrived is kept (.reply). {_more(self.session, 'budget_tokens')}")

    def publish(self) -> None:
        """Add what this reply counted since the last time to the session's count."""
        if self.pending:
            self.counted += self.pending
            _add(self.pending)
            self.pending = 0

    def settle(self, answer):
        usage = answer.get("usage") if isinstance(answer, dict) else None
        if isinstance(usage, dict) and isinstance(usage.get("total_tokens"), int):
            _add(usage["total_tokens"] - self.counted)
        return answer


def _more(session, name: str) -> str:
    if session.policy.limit(name) is not None:
        return f"The limit comes from {session.policy.where()}: ask whoever runs it (the instructor) for more."
    return f"Raise it with %llm_config {name}=N, or restart the kernel to start a fresh budget."


def _estimate(request: Request) -> int:
    body = request.body
    if request.kind == "chat":
        return estimate_messages(body.get("messages") or [])
    if request.kind == "embeddings":
        inputs = body.get("input")
        return sum(estimate_tokens(str(text)) for text in (inputs if isinstance(inputs, list) else [inputs]))
    documents = body.get("documents") or []
    return estimate_tokens(str(body.get("query", ""))) + sum(estimate_tokens(str(d)) for d in documents)


def _arguments_tokens(calls: list) -> int:
    """The estimated tokens of the arguments in a delta's tool calls."""
    tokens = 0
    for call in calls:
        arguments = (call.get("function") or {}).get("arguments")
        if isinstance(arguments, str) and arguments:
            tokens += estimate_tokens(arguments)
    return tokens
