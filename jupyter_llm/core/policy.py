"""The instructor's configuration: a system-wide file with defaults and limits for everyone.

The file is ``jupyter_llm.toml`` in a folder of the Jupyter config path other than the
user's own (``$JUPYTER_CONFIG_PATH``, ``{sys.prefix}/etc/jupyter``, ``/usr/local/etc/jupyter``,
``/etc/jupyter``; ``jupyter --paths`` lists them); the first one found is read. It is
written like the user's file (:mod:`.config_file`)::

    base_url = "https://gateway.example.org/v1"
    model = "qwen3-32b"
    allowed_models = ["qwen3-*", "Qwen3-Embedding-8B"]
    budget_tokens = 200000
    budget_requests = 300
    max_concurrency = 2

Its settings are defaults: the user's file, the environment and ``%llm_config`` may change
them. Its :data:`LIMITS` are ceilings instead: anyone may narrow them, no one may widen
them. A wider value is held at the file's own, with a note saying so. A model must be
allowed by the file's ``allowed_models`` and by the user's own, if any.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path

import jupyter_core.paths
from traitlets import List, Unicode

from .. import errors
from .config_file import FileSettings, read
from .notes import note

FILE_NAME = "jupyter_llm.toml"
#: Settings the system-wide file bounds for everyone. None (0 for max_concurrency) means no bound.
LIMITS = ("allowed_models", "budget_tokens", "budget_requests", "max_concurrency", "requests_per_minute",
          "tokens_per_minute")
_ZERO_IS_UNBOUNDED = ("max_concurrency",)
#: Where a setting came from, in the settings table.
SYSTEM_SOURCE, USER_SOURCE = "system config file", "config file"


@dataclass(frozen=True, slots=True)
class Policy:
    """The system-wide file: where it is (None: there is none) and what it says."""

    path: Path | None = None
    file: FileSettings = field(default_factory=lambda: FileSettings({}, {}, {}))

    def limit(self, name: str):
        """The file's bound on ``name`` (a LIMIT), or None."""
        return self.file.settings.get(name) if name in LIMITS else None

    def where(self) -> str:
        return f"the system config file {self.path}"


NONE = Policy()


def system_path() -> Path | None:
    """The system-wide file that applies: the first found in the Jupyter config path, outside
    the user's own Jupyter folder (which the user can write, so it cannot hold limits)."""
    own = Path(jupyter_core.paths.jupyter_config_dir()).expanduser().resolve()
    for folder in jupyter_core.paths.jupyter_config_path():
        folder = Path(folder).expanduser().resolve()
        if folder != own and (folder / FILE_NAME).is_file():
            return folder / FILE_NAME
    return None


def load(user_path: Path, known: set[str]) -> tuple[Policy, FileSettings, dict[str, str]]:
    """The system-wide policy, both files' settings merged, and which file each setting came from.

    The user's file overrides the system file's defaults; on a LIMIT it may only narrow it.
    """
    path = system_path()
    policy = Policy(path, read(path, known)) if path is not None else NONE
    user = read(user_path, known)
    settings = dict(policy.file.settings)
    origins = dict.fromkeys(settings, SYSTEM_SOURCE)
    for name, value in user.settings.items():
        bound = policy.limit(name)
        if name != "allowed_models" and bound is not None and _wider(name, value, bound):
            note(f"{user_path} sets {name} = {value!r}, above the limit of {bound!r} in {policy.where()}: "
                 f"keeping {bound!r}.")
            continue
        settings[name], origins[name] = value, USER_SOURCE
    merged = FileSettings(settings, {**policy.file.routes, **user.routes}, {**policy.file.models, **user.models})
    return policy, merged, origins


def cap(session, name: str, value):
    """``value`` for the LIMIT ``name``, held at the system file's bound when it would widen it."""
    bound = session.policy.limit(name)
    if bound is None or not _wider(name, value, bound):
        return value
    note(f"{name} = {value!r} would go past the limit of {bound!r} set in {session.policy.where()}: "
         f"keeping {bound!r}.")
    return bound


def _wider(name: str, value, bound) -> bool:
    unbounded = (0, None) if name in _ZERO_IS_UNBOUNDED else (None,)
    if bound in unbounded:
        return False
    if value in unbounded:
        return True
    # A value of the wrong type is left to the setting's own check, which says what it takes.
    return isinstance(value, (int, float)) and isinstance(bound, (int, float)) and value > bound


def patterns(value) -> list[str] | None:
    """``allowed_models`` as a list of name patterns: from a list, or text such as ``"qwen3-*, bge-*"``."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [part.strip() for part in value.split(",")]
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise errors.ConfigError(f"allowed_models takes a list of model names or patterns, e.g. "
                                 f'["qwen3-*", "Qwen3-Embedding-8B"], not {value!r}.')
    return [v for v in value if v] or None


class ModelPatterns(List):
    """The ``allowed_models`` setting: model names or glob patterns, None for any model. Text is
    split at commas, so ``%llm_config allowed_models=qwen3-*,Qwen3-Embedding-8B`` works."""

    def __init__(self, **kwargs):
        super().__init__(Unicode(), default_value=None, allow_none=True, **kwargs)

    def set(self, obj, value):
        # List.set would wrap text in a list whole: split it first.
        super().set(obj, patterns(value) if isinstance(value, str) else value)

    def validate(self, obj, value):
        value = patterns(value)
        return None if value is None else super().validate(obj, value)


def allows(session, model: str) -> bool:
    """True when ``model`` is allowed by the system file and by the session's own allow-list."""
    lists = (session.policy.limit("allowed_models"), session.allowed_models)
    return all(_matches(model, allowed) for allowed in lists if allowed)


def _matches(model: str, allowed) -> bool:
    return any(fnmatch.fnmatchcase(model, pattern) for pattern in patterns(allowed) or ())


def check_model(session, model: str | None) -> None:
    """Refuse, before anything is sent, a model that is not allowed here."""
    if not model or allows(session, model):
        return
    system = session.policy.limit("allowed_models")
    own = session.allowed_models
    if system and not _matches(model, system):
        allowed, where = system, session.policy.where()
    else:
        allowed, where = own, "this session's allowed_models"
    raise errors.ModelNotAllowed(
        f"{model} is not among the models allowed here ({', '.join(patterns(allowed))}, set in {where}). "
        f"Pick one of those: %llm_models lists them.", model=model, allowed=patterns(allowed))
