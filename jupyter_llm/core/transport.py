"""The transport seam: a :class:`Request` in, the server's answer out.

Everything that answers a request implements :class:`Transport`: the gateway over HTTP
(:mod:`.http`, and :mod:`.async_http` for the coroutines of a batch), and a cassette in front
of it (:mod:`.cassette_transport`) that replays or records. A chat answer is an iterator of
chunk dicts, closed by the caller when done; every other answer is the parsed JSON.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from .config_file import Endpoint, Secrets

#: What a request asks for: the four routes of the gateway, and one-api's billing routes
#: (``{"route": "subscription"}`` or ``{"route": "usage"}``), which a cassette never holds.
KINDS = ("chat", "embeddings", "rerank", "models", "billing")


@dataclass(frozen=True, slots=True)
class Request:
    """One request to the gateway, with the transport options that travel beside its body.

    Only ``kind`` and ``body`` say what is asked; the rest (where, how long to wait, how
    often to retry, which headers, which secrets to hide) never reaches the body.
    """

    kind: str
    endpoint: Endpoint
    body: dict = field(default_factory=dict)
    timeout: float = 120.0
    max_retries: int = 2
    headers: Mapping[str, str] = field(default_factory=dict)
    secrets: Secrets = Secrets()
    on_notice: Callable[[str], None] | None = None
    #: Chat only. False asks for the whole reply in one JSON body, for a batch row nobody
    #: watches: the answer is still the chunks a stream of it would have been.
    stream: bool = True

    @property
    def model(self) -> str:
        return str(self.body.get("model") or "")

    def all_secrets(self) -> list[str]:
        """The keys to hide in anything shown: the session's and this endpoint's."""
        return [*self.secrets, *([self.endpoint.api_key] if self.endpoint.api_key else [])]


class Transport:
    """Answers requests. Subclasses implement :meth:`handle`; :meth:`prepare` may warm up."""

    def handle(self, request: Request):
        """The answer to ``request``: chunk dicts for chat, parsed JSON otherwise."""
        raise NotImplementedError

    async def handle_async(self, request: Request):
        """:meth:`handle` from a coroutine: an async iterator of chunk dicts for chat (close it
        with ``aclose()``), parsed JSON otherwise."""
        raise NotImplementedError

    def prepare(self, request: Request) -> None:
        """Get ready to send ``request`` (open a client) so its timing measures the server."""

    def close(self) -> None:
        """Release connections."""
