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
from traitlets import Bool, CaselessStrEnum, Dict, Float, Int, Unicode

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
        """The route's key, stripped; checked for a header when a request is built."""
        return strip_key(self.api_key or (os.environ.get(self.api_key_env) if self.api_key_env else None))

    def __repr__(self) -> str:
        key = "set" if self.key() else "not set"
        return f"Route({self.name!r}, models={list(self.models)}, base_url={self.base_url!r}, key {key})"


@dataclass(frozen=True, slots=True)
class Endpoint:
    """The resolved connection for one request: URL, key and auth form.

    ``base_url`` is None when no gateway is configured for the model; ``stand_in`` is True
    once the client has put the built-in emulator there instead.
    """

    base_url: str | None
    api_key: str | None
    auth: str
    stand_in: bool = False

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
    routes = {name: _route(path, name, spec) for name, spec in _table(path, "routes", data.pop("routes", {})).items()}
    models = {name: _overrides(path, name, spec) for name, spec in _table(path, "models", data.pop("models", {})).items()}
    unknown = set(data) - known
    if unknown:
        raise errors.ConfigError(f"{path}: unknown setting(s) {sorted(unknown)}; known: {sorted(known)}")
    return FileSettings(data, routes, models)


#: What each field of a ``[models."NAME"]`` catalogue override takes.
_OVERRIDES = {"kind": ("chat", "embedding", "rerank"), "context": int, "tools": bool, "thinking": bool,
              "thinking_switch": bool, "vision": bool, "structured": bool, "note": str}
_ROUTE_FIELDS = ("models", "base_url", "api_key", "api_key_env", "auth")


def _refuse(path, setting: str, value, takes: str) -> errors.ConfigError:
    shown = "" if "key" in setting.rsplit(".", 1)[-1] else f" = {value!r}"
    return errors.ConfigError(f"{path}: {setting}{shown} is not valid: it takes {takes}.")


def _table(path, name: str, value) -> dict:
    if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
        raise _refuse(path, name, value, f'tables, one per name, e.g. [{name}.NAME]')
    return value


def _route(path, name: str, spec: dict) -> Route:
    unknown = sorted(set(spec) - set(_ROUTE_FIELDS))
    if unknown:
        raise errors.ConfigError(f"{path}: routes.{name} has unknown field(s) {unknown}; known: {list(_ROUTE_FIELDS)}.")
    models = spec.get("models", ())
    # One pattern written as text is one pattern, not one per character.
    models = (models,) if isinstance(models, str) else models
    if not isinstance(models, (list, tuple)) or not all(isinstance(m, str) and m for m in models):
        raise _refuse(path, f"routes.{name}.models", spec["models"], 'a list of model name patterns, e.g. ["qwen3-*"]')
    for field in ("base_url", "api_key", "api_key_env"):
        if field in spec and not isinstance(spec[field], str):
            raise _refuse(path, f"routes.{name}.{field}", spec[field], "text (a quoted string)")
    auth = spec.get("auth")
    if auth is not None and (not isinstance(auth, str) or auth.lower() not in ("bearer", "raw")):
        raise _refuse(path, f"routes.{name}.auth", auth, "'bearer' or 'raw'")
    return Route(name=name, models=tuple(models), base_url=spec.get("base_url"), api_key=strip_key(spec.get("api_key")),
                 api_key_env=spec.get("api_key_env"), auth=auth.lower() if auth else None)


def _overrides(path, name: str, spec: dict) -> dict:
    for field, value in spec.items():
        takes = _OVERRIDES.get(field)
        if takes is None:
            raise errors.ConfigError(f"{path}: models.{name!r} has unknown field {field!r}; known: "
                                     f"{list(_OVERRIDES)}.")
        if isinstance(takes, tuple):
            if value not in takes:
                raise _refuse(path, f"models.{name!r}.{field}", value, "one of " + ", ".join(map(repr, takes)))
        elif takes is int and (isinstance(value, bool) or not isinstance(value, int) or value <= 0):
            raise _refuse(path, f"models.{name!r}.{field}", value, "a whole number of tokens, e.g. 32768")
        elif takes is not int and not isinstance(value, takes):
            raise _refuse(path, f"models.{name!r}.{field}", value, "true or false" if takes is bool else "text")
    return spec


def strip_key(value):
    """A key as it came in (a file keeps its newline), stripped; None when empty."""
    return (value.strip() or None) if isinstance(value, str) else value


def header_problem(key: str | None, where: str) -> errors.ConfigError | None:
    """The error to raise when ``key`` cannot go in an HTTP header, else None.

    Returned, not raised: a verbose traceback prints the locals of every frame it passes
    through, so the caller drops the key before it raises. The message says where the bad
    character is without showing the key.
    """
    if key is None:
        return None
    if not isinstance(key, str):
        return errors.ConfigError(f"{where} must be text, not {type(key).__name__}.")
    for position, char in enumerate(key, 1):
        if not 0x20 < ord(char) < 0x7F:
            what = ("a space" if char == " " else f"a control character (U+{ord(char):04X})"
                    if ord(char) < 0x20 or ord(char) == 0x7F else f"a character outside ASCII (U+{ord(char):04X})")
            return errors.ConfigError(
                f"{where} holds {what} at position {position} of {len(key)}, which an HTTP header cannot "
                f"carry. Set the key alone (no 'Bearer', no quotes): %llm_config api_key asks for it.")
    return None


def check_headers(headers, where: str = "extra_headers") -> dict:
    """``headers`` as a dict of text names and values the HTTP layer can send, or a ConfigError."""
    if not isinstance(headers, dict):
        raise errors.ConfigError(f"{where} must be a mapping of header names to text, not {type(headers).__name__}.")
    for name, value in headers.items():
        if not isinstance(name, str) or not name or any(not 0x20 < ord(c) < 0x7F or c in '()<>@,;:\\"/[]?={}'
                                                         for c in name):
            raise errors.ConfigError(f"{where}: {name!r} is not a valid HTTP header name.")
        if not isinstance(value, str):
            raise errors.ConfigError(f"{where}: the value of {name} must be text, not {type(value).__name__} "
                                     f"(write {str(value)!r} in quotes).")
        if any(ord(c) < 0x20 and c != "\t" or ord(c) == 0x7F or ord(c) > 0xFF for c in value):
            raise errors.ConfigError(f"{where}: the value of {name} holds a character an HTTP header cannot "
                                     f"carry (a newline, a control character or one outside Latin-1).")
    return headers


def takes(trait) -> str:
    """What a setting accepts, in words, for an error message."""
    if isinstance(trait, CaselessStrEnum):
        return "one of " + ", ".join(repr(v) for v in trait.values)
    if isinstance(trait, Bool):
        return "true or false"
    if isinstance(trait, Float):
        return "a number"
    if isinstance(trait, Int):
        return "a whole number"
    if isinstance(trait, Dict):
        return "a table of names to values"
    if isinstance(trait, Unicode):
        return "text (a quoted string)"
    return "a value of another type"


_TYPES = {Bool: (bool,), Float: (int, float), Int: (int,), Dict: (dict,), Unicode: (str,)}


def coerce(trait, value, name: str):
    """A setting's value from its text form (``"0.2"``, ``"none"``, ``"true"``); other values are
    checked for their type (``true`` is not a number, ``[1]`` is not a timeout)."""
    if not isinstance(value, str):
        if value is None and trait.allow_none:
            return None
        kinds = next((k for t, k in _TYPES.items() if isinstance(trait, t)), None)
        if kinds is not None and (not isinstance(value, kinds) or (bool not in kinds and isinstance(value, bool))):
            shown = "" if "key" in name else f", not {value!r}"
            raise errors.ConfigError(f"{name} takes {takes(trait)}{shown}.")
        return value
    text = value.strip()
    if text.lower() in ("none", "null", "") and trait.allow_none:
        return None
    if isinstance(trait, CaselessStrEnum) and text.lower() not in trait.values:
        raise errors.ConfigError(f"{name} takes {takes(trait)}, not {value!r}.")
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
        raise errors.ConfigError(f"{name} takes {takes(trait)}, not {value!r}.") from exc
    if isinstance(trait, Dict):
        try:
            return json.loads(text)
        except json.JSONDecodeError as exc:
            raise errors.ConfigError(f"{name} must be a JSON object, e.g. '{{\"X-Header\": \"v\"}}'") from exc
    return text
