"""Errors raised by jupyter-llm. Every one says what to do next, and none shows a key.

::

    LLMError                      base class; .reply holds the partial Reply, if any text arrived
    ├── ConfigError               a setting is missing or wrong (no gateway URL, bad value)
    │   └── ModelNotAllowed       the model is not on the allow-list (allowed_models); nothing was sent
    ├── CapabilityError           the model cannot do what was asked (thinking, tools, images)
    ├── AuthenticationError       401/403: the key is missing, wrong or lacks access
    ├── QuotaExceeded             the key's quota at the gateway is spent: its admin can add more
    │   └── BudgetExceeded        the session's own budget (budget_tokens, budget_requests) is spent
    ├── ModelNotFound             the gateway does not serve that model; .available lists those it does
    ├── ContextTooLong            the prompt (plus max_tokens) exceeds the model's context
    ├── BadRequest                any other request the gateway refused (400/422)
    ├── RateLimitError            429 after every retry; .retry_after is the last wait asked for
    ├── GatewayError              5xx, or an error the server sent in the middle of a stream
    ├── ConnectionError           the gateway could not be reached (also a builtins.ConnectionError)
    ├── TimeoutError              no answer within the timeout (also a builtins.TimeoutError)
    ├── IncompleteReply           the stream ended without a finish reason; the partial text is kept
    ├── CassetteMiss              replay mode, and the cassette holds no answer for this request
    ├── FormatError               the reply is not in the format asked for (-f json); .reply keeps the text
    └── Stopped                   the user stopped the reply (a panel's Stop button); .reply has what arrived

    Interrupted                   a KeyboardInterrupt (■ or Ctrl-C) during a reply; .reply has what arrived

    Cause                         chained under an error as its cause: what the layer below said (its
                                  type and cleaned message), without the frames that held the request

Example::

    try:
        jupyter_llm.ask("hello", model="qwen3-32b")
    except jupyter_llm.errors.LLMError as exc:
        print(exc)            # what happened and what to do next
        partial = exc.reply   # the text that arrived before the failure, or None
"""
from __future__ import annotations

import builtins
import functools
import json
import re
import urllib.parse


class LLMError(Exception):
    """Base of every jupyter-llm error.

    ``status_code`` is the gateway's HTTP status and ``request_id`` the id it gave the
    request (one-api puts one in every refusal), when there was one.
    """

    def __init__(self, message: str, *, reply=None, status_code: int | None = None,
                 request_id: str | None = None):
        super().__init__(message)
        self.reply = reply
        self.status_code = status_code
        self.request_id = request_id

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""


class ConfigError(LLMError):
    """A setting is missing or invalid."""


class ModelNotAllowed(ConfigError):
    """The model is not among those allowed here (``allowed_models``, an instructor's system file);
    ``.allowed`` lists the allowed names or patterns."""

    def __init__(self, message: str, *, model: str = "", allowed=(), **kw):
        super().__init__(message, **kw)
        self.model = model
        self.allowed = list(allowed)


class CapabilityError(LLMError):
    """The model cannot do what the request asks (thinking, tools, images, embeddings)."""


class AuthenticationError(LLMError):
    """The gateway refused the key (401) or the key may not use this model (403)."""


class QuotaExceeded(LLMError):
    """The API key's quota at the gateway is spent (one-api's 额度已用尽 / quota not enough)."""


class BudgetExceeded(QuotaExceeded):
    """The session's budget (``budget_tokens``, ``budget_requests``) would be passed: the request was
    not sent, or its reply was stopped there; ``.reply`` keeps what arrived."""


class ModelNotFound(LLMError):
    """The gateway serves no model of that name for this key."""

    #: Replaced by the close names and the models served, once the client has listed them.
    SEE_MODELS = "Run %llm_models to see the models it serves."

    def __init__(self, message: str, *, model: str = "", available=(), **kw):
        super().__init__(message, **kw)
        self.model = model
        self.available = list(available)


class ContextTooLong(LLMError):
    """The request does not fit in the model's context window."""

    def __init__(self, message: str, *, limit: int | None = None, requested: int | None = None, **kw):
        super().__init__(message, **kw)
        self.limit = limit
        self.requested = requested


class BadRequest(LLMError):
    """The gateway refused the request as malformed or unsupported."""


class RateLimitError(LLMError):
    """The gateway kept answering 429 (too many requests) after every retry."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw):
        super().__init__(message, **kw)
        self.retry_after = retry_after


class GatewayError(LLMError):
    """The gateway or the model server failed (5xx, or an error chunk mid-stream)."""


class ConnectionError(LLMError, builtins.ConnectionError):
    """The gateway could not be reached at all."""


class TimeoutError(LLMError, builtins.TimeoutError):
    """The gateway sent nothing within the configured timeout."""


class IncompleteReply(LLMError):
    """The stream stopped before the model finished; ``.reply`` has what arrived."""


class CassetteMiss(LLMError):
    """Replay mode met a request the cassette never recorded; the message names the cell and
    what differs from the nearest recorded request (``.differences``, ``.nearest``)."""

    def __init__(self, message: str, *, cell: str = "", differences=(), nearest=None, **kw):
        super().__init__(message, **kw)
        self.cell = cell
        self.differences = list(differences)
        self.nearest = nearest


class FormatError(LLMError):
    """The reply could not be read in the asked format (``-f json``); ``.reply`` has the raw text."""


class Stopped(LLMError):
    """The user stopped the reply while it streamed; ``.reply`` has what arrived."""


class Interrupted(KeyboardInterrupt):
    """The user interrupted the kernel while a reply streamed; ``.reply`` has what arrived.

    A ``KeyboardInterrupt``, so it stops a script or a Run All as any interrupt does, and
    ``except KeyboardInterrupt`` still catches it; a notebook shows it as one line.
    """

    def __init__(self, message: str, *, reply=None):
        super().__init__(message)
        self.reply = reply


class Cause(Exception):
    """What the layer below (the openai SDK, httpx) raised, as its type and message with any key
    removed. Chained as ``__cause__`` instead of the original, whose frames hold the request's
    headers: a verbose traceback would print them."""


_KEYISH = re.compile(r"\b(sk-[A-Za-z0-9_\-]{6,})")
#: What a hidden key (or a piece of one) becomes.
HIDDEN = "[key hidden]"
#: Shortest piece of a key that is hidden on its own: gateways echo keys cut or masked.
_PIECE = 8


def redact(text: str, secrets=()) -> str:
    """``text`` with every given secret, and anything shaped like an ``sk-`` key, hidden.

    A key is found in the forms it takes on the way out (``Bearer KEY``, a bytes repr,
    escaped newlines, JSON-escaped or URL-encoded text), and so is any piece of it of 8
    characters or more: a gateway that quotes the key in an error may cut or mask it.

    Example::

        redact("token sk-abcdefgh1234… is over quota", ["sk-abcdefgh12345678"])
        # 'token [key hidden]… is over quota'
    """
    if not isinstance(text, str):
        text = str(text)
    pattern, forms = _pieces(tuple(sorted({s for s in secrets if isinstance(s, str) and s.strip()})))
    if pattern is not None:
        out, pos = [], 0
        while (match := pattern.search(text, pos)) is not None:
            start, end = match.span()
            while end < len(text) and any(text[start:end + 1] in form for form in forms):
                end += 1
            out += [text[pos:start], HIDDEN]
            pos = end
        text = "".join(out) + text[pos:]
    return _KEYISH.sub(HIDDEN, text)


@functools.lru_cache(maxsize=16)
def _pieces(secrets: tuple) -> tuple[re.Pattern | None, tuple[str, ...]]:
    """A pattern matching every 8-character piece of every form of ``secrets``, and the forms."""
    forms: set[str] = set()
    for secret in secrets:
        for value in {secret, secret.strip()}:
            forms |= {value, json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1],
                      repr(value)[1:-1], repr(value.encode("utf-8", "surrogatepass"))[2:-1],
                      urllib.parse.quote(value, safe="")}
    # A key shorter than a piece is hidden whole (and only whole).
    pieces = {form[i:i + _PIECE] for form in forms for i in range(max(1, len(form) - _PIECE + 1))}
    pieces = {p for p in pieces if len(p.strip()) >= min(_PIECE, 4)}
    if not pieces:
        return None, ()
    return re.compile("|".join(map(re.escape, sorted(pieces, key=lambda p: (-len(p), p))))), tuple(forms)


__all__ = [
    "LLMError",
    "ConfigError",
    "ModelNotAllowed",
    "CapabilityError",
    "AuthenticationError",
    "QuotaExceeded",
    "BudgetExceeded",
    "ModelNotFound",
    "ContextTooLong",
    "BadRequest",
    "RateLimitError",
    "GatewayError",
    "ConnectionError",
    "TimeoutError",
    "IncompleteReply",
    "CassetteMiss",
    "FormatError",
    "Stopped",
    "Interrupted",
    "Cause",
    "redact",
]
