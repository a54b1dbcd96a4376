"""The one session configuration object that magics, widgets and the Python API share.

Sources, lowest priority first: built-in defaults < the TOML config file < environment
variables < ``%llm_config`` or attribute assignment < per-call arguments. Widgets bind
to the traits, so a change made anywhere is seen everywhere.
"""
from __future__ import annotations

import html
import os

from traitlets import Bool, CaselessStrEnum, Dict, Float, HasTraits, Int, Unicode, observe, validate

from .. import errors
from . import config_file, markdown
from .config_file import Endpoint, Route, Secrets, config_path
from .policy import NONE, SYSTEM_SOURCE, ModelPatterns, Policy, cap, load

__all__ = ["SETTINGS", "Endpoint", "Route", "Secrets", "Session", "config_path"]

#: Settings that ``%llm_config k=v`` and the config file may set, with a one-line help each.
SETTINGS = {
    "base_url": "gateway URL, e.g. https://gateway.example.org/v1",
    "api_key": "API key (set it with a hidden prompt: %llm_config api_key)",
    "auth": "'bearer' (Authorization: Bearer KEY) or 'raw' (Authorization: KEY, as the gateway manual shows)",
    "model": "default chat model",
    "think": "None = the model's default, True = think, False = switch thinking off",
    "soft_think_switch": "also append /no_think or /think to the prompt (for gateways that drop chat_template_kwargs)",
    "temperature": "sampling temperature (None = the server's default)",
    "max_tokens": "cap on generated tokens, reasoning included (None = no cap)",
    "timeout": "seconds to wait for the first byte and between chunks",
    "max_retries": "retries on 429, 5xx and connection errors",
    "extra_headers": "extra HTTP headers sent with every request",
    "confirm_tools": "ask before running each tool call the model makes",
    "max_tool_rounds": "rounds of tool calls run before the model must answer",
    # Load this session may put on the gateway (every request counts, batch jobs included).
    "max_concurrency": "requests in flight at once, for the whole session (0 = no bound)",
    "requests_per_minute": "requests started per minute, whole session (None = no cap)",
    "tokens_per_minute": "tokens per minute, whole session, prompt estimate + reply (None = no cap)",
    "batch_confirm_over": "map() asks for confirm=True above this many requests (0 = never ask)",
    # Provenance (call_log.py) and work that survives a restart (data/cache.py).
    "log": "keep a searchable log of every call on this machine (%llm_log)",
    "log_content": "with log on: keep prompts and replies too (false: model, tokens and timings only)",
    "cache": "where finished map() rows and embeddings are kept: disk (survives restarts), memory or off",
    "remote_images": "load images from other sites in model output (off: shown as links)",
    # What a session may spend; an instructor's system config file can bound these (policy.py).
    "allowed_models": "the only models requests may use: names or patterns like 'qwen3-*' (None = any)",
    "budget_tokens": "tokens this session may use in all, prompts and replies (None = no budget)",
    "budget_requests": "requests this session may send in all (None = no budget)",
    "price_per_1k_tokens": "what 1,000 tokens cost in the gateway's quota unit, to compare jobs with the quota left (None = not known)",
}

_ENV = {
    "base_url": ("JUPYTER_LLM_BASE_URL", "OPENAI_BASE_URL"),
    "api_key": ("JUPYTER_LLM_API_KEY", "OPENAI_API_KEY"),
    "model": ("JUPYTER_LLM_MODEL",),
    "auth": ("JUPYTER_LLM_AUTH",),
}


class Session(HasTraits):
    """Settings for this kernel, read by every part of jupyter-llm.

    Example::

        import jupyter_llm
        jupyter_llm.session.model = "qwen3-32b"
        jupyter_llm.session.think = False       # Qwen3: switch thinking off
        jupyter_llm.session                     # shows the settings, never the key
    """

    base_url = Unicode(None, allow_none=True, help=SETTINGS["base_url"])
    api_key = Unicode(None, allow_none=True, help=SETTINGS["api_key"])
    auth = CaselessStrEnum(["bearer", "raw"], default_value="bearer", help=SETTINGS["auth"])
    model = Unicode(None, allow_none=True, help=SETTINGS["model"])
    think = Bool(None, allow_none=True, help=SETTINGS["think"])
    soft_think_switch = Bool(False, help=SETTINGS["soft_think_switch"])
    temperature = Float(None, allow_none=True, help=SETTINGS["temperature"])
    max_tokens = Int(None, allow_none=True, help=SETTINGS["max_tokens"])
    timeout = Float(120.0, help=SETTINGS["timeout"])
    max_retries = Int(2, help=SETTINGS["max_retries"])
    extra_headers = Dict(help=SETTINGS["extra_headers"])
    confirm_tools = Bool(False, help=SETTINGS["confirm_tools"])
    max_tool_rounds = Int(8, help=SETTINGS["max_tool_rounds"])
    max_concurrency = Int(8, help=SETTINGS["max_concurrency"])
    requests_per_minute = Int(None, allow_none=True, help=SETTINGS["requests_per_minute"])
    tokens_per_minute = Int(None, allow_none=True, help=SETTINGS["tokens_per_minute"])
    batch_confirm_over = Int(1000, help=SETTINGS["batch_confirm_over"])
    log = Bool(True, help=SETTINGS["log"])
    log_content = Bool(True, help=SETTINGS["log_content"])
    cache = CaselessStrEnum(["disk", "memory", "off"], default_value="disk", help=SETTINGS["cache"])
    remote_images = Bool(False, help=SETTINGS["remote_images"])
    allowed_models = ModelPatterns(help=SETTINGS["allowed_models"])
    budget_tokens = Int(None, allow_none=True, help=SETTINGS["budget_tokens"])
    budget_requests = Int(None, allow_none=True, help=SETTINGS["budget_requests"])
    price_per_1k_tokens = Float(None, allow_none=True, help=SETTINGS["price_per_1k_tokens"])
    routes = Dict(help="model-pattern routes to other keys / URLs, by name")
    model_overrides = Dict(help="catalogue overrides by model name")
    source = Dict(help="where each setting came from")
    emulated = Bool(False, help="True once the user was told the built-in gateway emulator answers")
    # Record/replay (cassette.py). Not in SETTINGS: a notebook's %llm_config table must read
    # the same when it is recorded and when it is replayed. None: JUPYTER_LLM_CASSETTE(_MODE).
    cassette = Unicode(None, allow_none=True, help="cassette file (default: beside the notebook)")
    cassette_mode = CaselessStrEnum(["off", "auto", "record", "replay", "fallback"], default_value=None,
                                    allow_none=True, help="off, auto (replay what is recorded, record the rest), "
                                    "record, replay, fallback (replay what is recorded, send the rest, keep nothing)")
    cassette_speed = Float(0.0, help="replay pace: 0 = instant, 1 = as recorded, 2 = twice as fast")
    #: The system-wide config file's defaults and limits (read by reload()).
    policy: Policy = NONE

    def __init__(self, *, load: bool = True, **kwargs):
        super().__init__()
        if load:
            self.reload()
        for name, value in kwargs.items():
            self.set(name, value)

    @validate("max_retries")
    def _check_retries(self, proposal):
        if proposal["value"] < 0:
            raise errors.ConfigError("max_retries must be 0 or more")
        return proposal["value"]

    @validate("max_concurrency", "requests_per_minute", "tokens_per_minute", "batch_confirm_over", "budget_tokens",
              "budget_requests")
    def _check_load(self, proposal):
        value = proposal["value"]
        if value is not None and value < 0:
            raise errors.ConfigError(f"{proposal['trait'].name} must be 0 or more (or none), not {value}")
        return cap(self, proposal["trait"].name, value)

    @validate("price_per_1k_tokens")
    def _check_price(self, proposal):
        if proposal["value"] is not None and proposal["value"] <= 0:
            raise errors.ConfigError("price_per_1k_tokens must be above 0 (or none when it is not known)")
        return proposal["value"]

    @validate("api_key")
    def _check_key(self, proposal):
        # A key read from a file keeps its newline. One no header can carry is refused when a
        # request is built (endpoint()): refused here, traitlets' frames would show it.
        return config_file.strip_key(proposal["value"])

    @validate("extra_headers")
    def _check_headers(self, proposal):
        return config_file.check_headers(proposal["value"])

    @observe("remote_images")
    def _follow_images(self, change):
        markdown.allow_remote_images(change["new"])

    @validate("timeout")
    def _check_timeout(self, proposal):
        if proposal["value"] <= 0:
            raise errors.ConfigError("timeout must be a positive number of seconds")
        return proposal["value"]

    def reload(self) -> None:
        """Reset to defaults, then apply the config file and the environment again."""
        with self.hold_trait_notifications():
            for name in SETTINGS:
                self.set_trait(name, self.trait_defaults(name))
            self.routes, self.model_overrides = {}, {}
            self.policy, from_file, origins = load(config_path(), set(SETTINGS))
            self.routes, self.model_overrides = from_file.routes, from_file.models
            sources = {}
            for name, value in from_file.settings.items():
                try:
                    self.set(name, value)
                except errors.ConfigError as exc:
                    where = self.policy.path if origins[name] == SYSTEM_SOURCE else config_path()
                    raise errors.ConfigError(f"{where}: {exc}") from None
                sources[name] = origins[name]
            for name, variables in _ENV.items():
                for variable in variables:
                    if os.environ.get(variable):
                        self.set(name, os.environ[variable])
                        sources[name] = variable
                        break
            self.source = sources
            self._loaded = {name: getattr(self, name) for name in sources}

    def set(self, name: str, value) -> None:
        """Set one setting from a Python value or its text form (``"0.2"``, ``"none"``)."""
        if name not in SETTINGS:
            raise errors.ConfigError(f"unknown setting {name!r}; known: {', '.join(SETTINGS)}")
        setattr(self, name, config_file.coerce(self.traits()[name], value, name))

    def endpoint(self, model: str | None) -> Endpoint:
        """The URL, key and auth form for ``model``, following the routes.

        A plain lookup: ``base_url`` is None when no gateway is configured (the client then
        decides what answers instead).
        """
        base_url, key, auth, where = self.base_url, self.api_key, self.auth, "api_key"
        for route in self.routes.values():
            if model and route.matches(model) and route.key():
                key, where = route.key(), f"the key of route {route.name!r}" + (
                    f" (${route.api_key_env})" if route.api_key_env else "")
            if model and route.matches(model):
                base_url = route.base_url or base_url
                auth = route.auth or auth
                break
        problem = config_file.header_problem(key, where)
        if problem is not None:
            key = None  # a verbose traceback prints this frame's locals
            raise problem
        return Endpoint(base_url=base_url.rstrip("/") if base_url else None, api_key=key, auth=auth)

    def secrets(self) -> Secrets:
        """Every key this session knows, so errors and logs can be scrubbed of them."""
        keys = [self.api_key] + [route.key() for route in self.routes.values()]
        return Secrets(k for k in keys if k)

    def as_dict(self) -> dict:
        """The settings as plain values, with the key masked."""
        values = {name: getattr(self, name) for name in SETTINGS}
        values["api_key"] = _mask(self.api_key)
        return values

    def __repr__(self) -> str:
        inner = ", ".join(f"{k}={v!r}" for k, v in self.as_dict().items() if v not in (None, {}))
        return f"Session({inner})"

    def origin(self, name: str) -> str:
        """Where a setting's value came from, for the settings table."""
        if name in self.source and getattr(self, name) == self._loaded.get(name):
            return self.source[name]
        return "default" if getattr(self, name) == self.trait_defaults(name) else "set in this session"

    def _repr_mimebundle_(self, include=None, exclude=None):
        rows = "".join(
            f"<tr><td><code>{name}</code></td><td>{html.escape(repr(value))}</td>"
            f"<td>{html.escape(self.origin(name))}</td>"
            f"<td>{html.escape(SETTINGS[name])}</td></tr>"
            for name, value in self.as_dict().items()
        )
        table = (
            "<table><thead><tr><th>setting</th><th>value</th><th>from</th><th>meaning</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
        plain = "\n".join(f"{name:18} {value!r}" for name, value in self.as_dict().items())
        return {"text/plain": plain, "text/html": table}


def _mask(key: str | None) -> str | None:
    return None if not key else "•••• (set)"
