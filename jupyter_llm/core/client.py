"""The client: turns a session's requests into transport requests.

It finds each model's endpoint (routes, keys), carries the transport options (timeout,
retries, headers, the secrets to hide) beside the body, and hands the request to the
transport: the active cassette, then the session's budget, in front of HTTP.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import replace

from .. import emulator, errors
from .async_http import AsyncHTTPTransport
from .budget import BudgetTransport
from .cassette_transport import CassetteTransport, active
from .config_file import Endpoint, check_headers
from .http import HTTPTransport
from .notes import note
from .notgiven import NOT_GIVEN, given
from .policy import check_model
from .transport import Request, Transport

#: Per-call options of the transport; they never reach a request body.
OPTIONS = ("timeout", "max_retries", "extra_headers")

_http = HTTPTransport()
_async_http = AsyncHTTPTransport()


def http_transport() -> HTTPTransport:
    """The process's HTTP transport (one connection pool per endpoint)."""
    return _http


def take_options(params: dict) -> dict:
    """Remove the transport options from ``params`` (a call's keyword arguments) and return them."""
    return {name: params.pop(name) for name in OPTIONS if name in params}


class Client:
    """Sends a session's requests with its transport options, or those given here.

    An option left out (NOT_GIVEN) follows the session; one given applies to this client's
    requests only.

    Example::

        from jupyter_llm.core.client import Client
        client = Client(jupyter_llm.session, max_retries=0)
        chunks = client.chat({"model": "qwen3-32b", "messages": [{"role": "user", "content": "hi"}]})
    """

    def __init__(self, session, *, timeout=NOT_GIVEN, max_retries=NOT_GIVEN, extra_headers=NOT_GIVEN,
                 transport: Transport | None = None):
        self.session = session
        self.timeout = _timeout(given(timeout, session.timeout))
        self.max_retries = _retries(given(max_retries, session.max_retries))
        self.headers = check_headers(dict(given(extra_headers, session.extra_headers) or {}))
        self._endpoints: dict = {}
        self._secrets = None
        # The budget sits below the cassette: only what reaches the gateway spends it.
        self.transport = transport or CassetteTransport(BudgetTransport(_http, session), session)
        #: What a coroutine's requests go through (a batch's rows, on the batch loop): the same
        #: layers, with aiohttp at the bottom.
        self.async_transport = transport or CassetteTransport(BudgetTransport(_async_http, session), session)

    def endpoint(self, model: str | None) -> Endpoint:
        """Where requests for ``model`` go; with no gateway configured, the built-in emulator."""
        endpoint = self.session.endpoint(model)
        if endpoint.base_url is None:
            endpoint = replace(endpoint, base_url=_stand_in(self.session), stand_in=True)
        return endpoint

    def request(self, kind: str, body: dict, *, model: str | None = None,
                on_notice: Callable[[str], None] | None = None, stream: bool = True) -> Request:
        """The transport request for ``body``, sent to ``model``'s endpoint (default: the body's).

        A model the allow-list does not hold is refused here, before anything is sent.
        """
        model = body.get("model") if model is None else model
        if kind in ("chat", "embeddings", "rerank"):
            check_model(self.session, model)
        # A client lives for one call or one batch, and takes the session's options when made:
        # the routes and keys are read once per model, not once per row of a batch.
        endpoint = self._endpoints.get(model)
        if endpoint is None:
            endpoint = self._endpoints[model] = self.endpoint(model)
        if self._secrets is None:
            self._secrets = self.session.secrets()
        return Request(kind=kind, endpoint=endpoint, body=body, timeout=self.timeout, max_retries=self.max_retries,
                       headers=self.headers, secrets=self._secrets, on_notice=on_notice, stream=stream)

    def prepare(self, model: str) -> None:
        """Open the connection's client now, so a reply's timing measures the gateway alone."""
        self.transport.prepare(self.request("chat", {"model": model}))

    def chat(self, body: dict, *, on_notice=None) -> Iterator[dict]:
        """The chunks of one streamed chat completion; close the iterator to end the request."""
        return self.transport.handle(self.request("chat", body, on_notice=on_notice))

    async def chat_async(self, body: dict, *, on_notice=None, stream: bool = True) -> AsyncIterator[dict]:
        """:meth:`chat` from a coroutine: an async iterator of chunks; ``aclose()`` it to end the request.

        ``stream=False`` reads the reply whole (one JSON body, not one event per token), for
        a reply nobody watches while it arrives: the chunks are the same in substance.
        """
        return await self.async_transport.handle_async(self.request("chat", body, on_notice=on_notice,
                                                                    stream=stream))

    def embeddings(self, body: dict, *, on_notice=None) -> dict:
        """One ``POST /embeddings`` as the raw JSON (base64 vectors stay strings for numpy)."""
        return self.transport.handle(self.request("embeddings", body, on_notice=on_notice))

    async def embeddings_async(self, body: dict, *, on_notice=None) -> dict:
        """:meth:`embeddings` from a coroutine."""
        return await self.async_transport.handle_async(self.request("embeddings", body, on_notice=on_notice))

    def rerank(self, body: dict, *, on_notice=None):
        """One ``POST /rerank``: vLLM's ``{"results": [...]}`` or SGLang's bare list."""
        return self.transport.handle(self.request("rerank", body, on_notice=on_notice))

    def models(self) -> list[dict]:
        """The ``/v1/models`` entries the session's key can use, as plain dicts."""
        return self.transport.handle(self.request("models", {}, model=self.session.model))


def _timeout(value) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise errors.ConfigError(f"timeout must be a positive number of seconds, not {value!r}.")
    return float(value)


def _retries(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise errors.ConfigError(f"max_retries must be a whole number, 0 or more, not {value!r}.")
    return value


def _stand_in(session) -> str:
    server = emulator.shared()
    # Said once per kernel, and only where the emulator's answers reach the user directly: a
    # cassette names itself instead, so a recorded notebook and its replay show the same notes.
    if not session.emulated and active(session) is None:
        session.emulated = True
        note("no gateway configured, so the built-in emulator answers with placeholder text. To use "
             "your gateway: %llm_config base_url=https://…/v1 then %llm_config api_key (a hidden prompt), "
             "or set JUPYTER_LLM_BASE_URL and JUPYTER_LLM_API_KEY before starting the kernel.")
    return server.url
