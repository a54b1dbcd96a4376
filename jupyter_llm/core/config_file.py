"""The config file and the values around a session: routes, endpoints, the secrets to hide.

The file is TOML at ``$JUPYTER_LLM_CONFIG_FILE`` or in the user's config directory::

    base_url = "https://gateway.example.org/v1"
    model = "qwen3-32b"

    [routes.group-a]                 # models served with another key (or URL)
    models = ["qwq-*", "qwen72b-*"]
    api_key_env = "GROUP_A_KEY"

    [models."my-model"]              # catalogue overrides
    context = 65536
    tools = true
"""
from __future__ import annotations

import fnmatch
import json
import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from traitlets import Bool, Dict, Float, Int

from .. import errors


def config_path() -> Path:
    """Where the config file lives: ``$JUPYTER_LLM_CONFIG_FILE`` or the user config dir."""
    override = os.environ.get("JUPYTER_LLM_CONFIG_FILE")
    if override:
        return Path(override)
    return Path(platformdirs.user_config_dir("jupyter-llm")) / "config.toml"


@dataclass(frozen=True, slots=True)
class Route:
    """Where requests for a model go and with which key.

    The gateway manual gives different models different keys; a route names the
    models (glob patterns) one key serves.
    """

    name: str
    models: tuple[str, ...] = ()
    base_url: str | None = None
    api_key: str | None = None
    api_key_env: str | None = None
    auth: str | None = None

    def matches(self, model: str) -> bool:
        return any(fnmatch.fnmatchcase(model, pattern) for pattern in self.models)

    def key(self) -> str | None:
        if self.api_key:
            return self.api_key
        return os.environ.get(self.api_key_env) if self.api_key_env else None

    def __repr__(self) -> str:
        key = "set" if self.key() else "not set"
        return f"Route({self.name!r}, models={list(self.models)}, base_url={self.base_url!r}, key {key})"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The resolved connection for one request: URL, key and auth form.

    ``base_url`` is None when no gateway is configured for the model.
    """

    base_url: str | None
    api_key: str | None
    auth: str

    def __repr__(self) -> str:
        return f"Endpoint({self.base_url!r}, key {'set' if self.api_key else 'not set'}, auth={self.auth!r})"


class Secrets(tuple):
    """Keys passed down to be scrubbed from messages. Shown as a count: a traceback that prints
    local variables (``%xmode Verbose``, ``pytest --showlocals``) must not print them."""

    def __repr__(self) -> str:
        return f"<{len(self)} key(s), hidden>"


@dataclass(frozen=True, slots=True)
class FileSettings:
    """What the config file says: plain settings, routes by name, catalogue overrides."""

    settings: dict
    routes: dict
    models: dict


def read(path: Path, known: set[str]) -> FileSettings:
    """Read the config file at ``path`` (an absent file is empty); refuse unknown settings."""
    if not path.is_file():
        return FileSettings({}, {}, {})
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise errors.ConfigError(f"{path} is not valid TOML ({exc}); fix or delete it") from exc
    routes = {
        name: Route(
            name=name,
            models=tuple(spec.get("models", ())),
            base_url=spec.get("base_url"),
            api_key=spec.get("api_key"),
            api_key_env=spec.get("api_key_env"),
            auth=spec.get("auth"),
        )
        for name, spec in data.pop("routes", {}).items()
    }
    models = data.pop("models", {})
    unknown = set(data) - known
    if unknown:
        raise errors.ConfigError(f"{path}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    return FileSettings(data, routes, models)


def coerce(trait, value, name: str):
    """A setting's value from its text form (``"0.2"``, ``"none"``, ``"true"``); other values pass."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.lower() in ("none", "null", "") and trait.allow_none:
        return None
    if isinstance(trait, Bool):
        lowered = text.lower()
        if lowered in ("true", "yes", "on", "1"):
            return True
        if lowered in ("false", "no", "off", "0"):
            return False
        raise errors.ConfigError(f"{name} must be true, false or none, not {value!r}")
    try:
        if isinstance(trait, Float):
            return float(text)
        if isinstance(trait, Int):
            return int(text)
    except ValueError as exc:
        raise errors.ConfigError(f"{name} must be a number, not {value!r}") from exc
    if isinstance(trait, Dict):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise errors.ConfigError(f"{name} must be a JSON object, e.g. '{{\"X-Header\": \"v\"}}'") from exc
    return text
