"""The fault matrix: each gateway failure the emulator can inject, and what a user must see.

Shared by the fault tests and the secret scan, which runs the same matrix with a recognisable key.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from jupyter_llm import errors

MODEL = "qwen72b-awq"


@dataclass(frozen=True)
class Row:
    emulate: str  # the X-Emulator header
    error: type
    says: tuple[str, ...]  # words of the message: what happened and what to do next
    requests: int  # chat requests the gateway receives (1: not retried)
    settings: dict = field(default_factory=dict)
    partial: bool = False  # text arrived before the failure and must be kept


ROWS = {
    "429": Row("fault=429; retry_after=0.1", errors.RateLimitError,
               ("429", "after 3 attempts", "wait 0.1 s", "max_retries"), 3, {"max_retries": 2}),
    "500": Row("fault=500", errors.GatewayError,
               ("(500) after 2 attempts", "EngineCore encountered an issue", "try again"), 2, {"max_retries": 1}),
    "502": Row("fault=502", errors.GatewayError,
               ("(502) after 2 attempts", "upstream server is unreachable", "try again"), 2, {"max_retries": 1}),
    "504": Row("fault=504", errors.GatewayError,
               ("(504) after 2 attempts", "timed out after 300 s", "try again"), 2, {"max_retries": 1}),
    "503 no channel": Row("fault=503-channel", errors.ModelNotFound,
                          ("无可用渠道", "request id:", "Models served:", "qwen3-32b"), 1,
                          {"max_retries": 2}),
    "401": Row("fault=401", errors.AuthenticationError,
               ("refused the API key", "%llm_config api_key", "JUPYTER_LLM_API_KEY"), 1, {"max_retries": 2}),
    "403": Row("fault=403", errors.AuthenticationError,
               (f"may not use {MODEL}", "该令牌无权使用模型", "[routes.NAME]", "admin"), 1,
               {"max_retries": 2}),
    "context length": Row("fault=context", errors.ContextTooLong,
                          ("limit 16,384 tokens", "request 16,385", "Shorten the prompt"), 1),
    "slow first byte": Row("fault=slow; delay=3", errors.TimeoutError,
                           ("within 1 s", "%llm_config timeout="), 1, {"timeout": 1, "max_retries": 2}),
    "cut, no [DONE]": Row("fault=cut; cut_after=8", errors.IncompleteReply,
                          ("no finish reason", "partial text is kept", "re-run"), 1, partial=True),
    "cut, then [DONE]": Row("fault=cut-done; cut_after=8", errors.IncompleteReply,
                            ("no finish reason", "partial text is kept", "re-run"), 1, partial=True),
    "connection dropped": Row("fault=drop; cut_after=8", errors.IncompleteReply,
                              ("broke mid-reply", "partial text is kept", "re-run"), 1, partial=True),
    "error chunk": Row("fault=error-chunk; cut_after=8", errors.GatewayError,
                       ("mid-reply", "engine stopped while generating"), 1, partial=True),
}
