"""What a refusal from a real gateway means, read from its status and its own words.

one-api writes its refusals in Chinese, with a request id. LiteLLM and vLLM write theirs in
English. The same meaning comes with different statuses: an unknown model is 503 from
one-api, 400 from LiteLLM and 404 from vLLM. So :func:`classify` reads the status and the
text together, never English wording alone. The patterns below are taken from each
project's source (``tests/corpus/refusals.json`` keeps the examples).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

#: Meanings a refusal can have. Only ``busy`` is worth another try.
UNKNOWN_MODEL, QUOTA, NOT_ALLOWED, BAD_KEY, DENIED, BUSY, NO_ROUTE = (
    "unknown model", "quota spent", "model not allowed for this key", "key refused", "access denied",
    "busy", "no such route")

_REQUEST_ID = re.compile(r"\s*\(request id: ([\w-]+)\)")
_ID_HEADERS = ("x-oneapi-request-id", "x-request-id", "x-litellm-call-id")

# (meaning, statuses or None for any, pattern on the message, or on the error code)
_RULES: list[tuple[str, frozenset | None, re.Pattern | None, frozenset]] = [
    # one-api: no channel of the key's group serves the model (middleware/distributor.go)
    (UNKNOWN_MODEL, frozenset({503}), re.compile(r"下对于模型 .* 无可用渠道|no available channel for model"),
     frozenset()),
    # LiteLLM proxy (proxy/route_llm_request.py) and vLLM (serving engine), and OpenAI's code
    (UNKNOWN_MODEL, frozenset({400, 404}), re.compile(r"Invalid model name passed in model=|The model `.*` does not "
                                                      r"exist|The model '.*' does not exist"),
     frozenset({"model_not_found"})),
    # one-api: the key's quota (model/token.go, relay/controller/helper.go); OpenAI's code
    (QUOTA, frozenset({401, 403, 429}), re.compile(r"额度已用尽|额度不足|user quota is not enough"),
     frozenset({"insufficient_user_quota", "pre_consume_token_quota_failed", "insufficient_quota"})),
    # one-api: the key's own model list (middleware/auth.go)
    (NOT_ALLOWED, frozenset({403}), re.compile(r"无权使用模型"), frozenset()),
    (BAD_KEY, frozenset({401}), None, frozenset()),
    (DENIED, frozenset({403}), None, frozenset()),
    # one-api's own limiter (empty body), its rewrite after upstream 429s, and any other 429
    (BUSY, frozenset({429}), None, frozenset()),
    # Any other 404 (one-api's "Invalid URL (POST /v1/rerank)", FastAPI's "Not Found"): a wrong URL.
    (NO_ROUTE, frozenset({404}), None, frozenset()),
]


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal read: its meaning, the gateway's words without the request id, and the id."""

    meaning: str | None
    text: str
    request_id: str | None = None

    @property
    def retry(self) -> bool:
        return self.meaning == BUSY

    def quoted(self) -> str:
        """The gateway's own words with its request id, as its admin will want them."""
        rid = f" (request id: {self.request_id})" if self.request_id else ""
        return f"{self.text}{rid}" if self.text else f"no message{rid}"


def classify(status: int | None, message: str, code=None, headers=None) -> Refusal:
    """What a refusal with this status, message and error code means (None: nothing known)."""
    found = _REQUEST_ID.search(message or "")
    text = _REQUEST_ID.sub("", message or "").strip()
    request_id = found.group(1) if found else _header_id(headers)
    code = str(code) if code is not None else ""
    for meaning, statuses, pattern, codes in _RULES:
        if statuses is not None and status not in statuses:
            continue
        if pattern is None and not codes:
            return Refusal(meaning, text, request_id)
        if (pattern is not None and pattern.search(text)) or code in codes:
            return Refusal(meaning, text, request_id)
    return Refusal(None, text, request_id)


def _header_id(headers) -> str | None:
    if not headers:
        return None
    for name in _ID_HEADERS:
        value = headers.get(name)
        if value:
            return str(value)
    return None
