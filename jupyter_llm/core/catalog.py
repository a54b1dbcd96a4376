"""What each model can do: ``/v1/models`` merged with built-in families and user overrides.

The gateway adds and retires models often, so no logic names a model: capabilities come
from the family table below (data, matched by glob pattern), what the server reports,
and ``[models."NAME"]`` tables in the user's config file, in rising priority.
"""
from __future__ import annotations

import difflib
import fnmatch
from dataclasses import dataclass, field, fields, replace

from .. import errors
from .client import Client
from .policy import allows

#: Families of the gateway's models, most specific pattern first. Unknown capabilities stay None.
FAMILIES: list[tuple[str, dict]] = [
    ("*embedding*", dict(kind="embedding", context=32768)),
    ("*rerank*", dict(kind="rerank", context=8192)),
    # QwQ's template opens the think block in the prompt; it has no switch and always thinks.
    ("qwq-32b-128k*", dict(context=131072, tools=True, thinking=True, thinking_switch=False, opens_thinking=True,
                           structured=True, vision=False)),
    ("qwq*", dict(context=65536, tools=False, thinking=True, thinking_switch=False, opens_thinking=True,
                  vision=False)),
    ("deepseek-r1*", dict(thinking=True, thinking_switch=False, opens_thinking=True, vision=False)),
    # Qwen3's 2507 releases split the hybrid in two: instruct models never think, thinking
    # models always do (their template opens the block); coder models never think.
    ("qwen3-coder*", dict(tools=True, thinking=False, thinking_switch=False, opens_thinking=False, structured=True)),
    ("qwen3-*instruct*", dict(tools=True, thinking=False, thinking_switch=False, opens_thinking=False,
                              structured=True)),
    ("qwen3-*thinking*", dict(tools=True, thinking=True, thinking_switch=False, opens_thinking=True,
                              structured=True)),
    ("qwen3-*", dict(context=32768, tools=True, thinking=True, thinking_switch=True, opens_thinking=False,
                     structured=True, vision=False)),
    ("qwen72b-int8*", dict(context=16384, tools=False, thinking=False, vision=False, note="being retired")),
    ("qwen72b-awq*", dict(context=16384, tools=True, thinking=False, vision=False, note="being retired")),
    ("qwen32b-awq*", dict(context=32768, tools=True, thinking=False, vision=False,
                           note="trial; being retired")),
    ("*-vl-*", dict(context=32768, tools=False, thinking=False, vision=True)),
    ("*vl*", dict(vision=True)),
]


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """Capabilities of one model. ``None`` means unknown (the client then does not block)."""

    name: str
    kind: str = "chat"
    context: int | None = None
    tools: bool | None = None
    thinking: bool | None = None
    thinking_switch: bool | None = None
    #: The chat template opens the think block in the prompt: inline reasoning comes without ``<think>``.
    opens_thinking: bool | None = None
    vision: bool | None = None
    #: Honours ``response_format`` JSON Schema (structured outputs); otherwise map() asks in the prompt.
    structured: bool | None = None
    served: bool = False
    note: str = ""
    sources: tuple[str, ...] = field(default=())

    def as_row(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "sources"} | {
            "source": " + ".join(self.sources)
        }


def _family(name: str) -> dict:
    """The capabilities the family table gives ``name`` (matched case-blind, on its base name)."""
    merged: dict = {}
    base = name.rsplit("/", 1)[-1].lower()
    for pattern, caps in FAMILIES:
        if fnmatch.fnmatchcase(base, pattern):
            for key, value in caps.items():
                merged.setdefault(key, value)
            if merged.get("kind", "chat") != "chat":
                # Qwen3-Embedding-8B also matches qwen3-*: a chat family's tools and thinking are not its.
                break
    return merged


def describe(name: str, *, server: dict | None = None, overrides: dict | None = None) -> ModelInfo:
    """Build a :class:`ModelInfo` from the family table, a ``/v1/models`` entry and overrides."""
    info = ModelInfo(name=name)
    sources = []
    family = _family(name) or (_family(server.get("root", "")) if server and server.get("root") else {})
    if family:
        info = replace(info, **family)
        sources.append("built-in")
    if server is not None:
        info = replace(info, served=True)
        if server.get("max_model_len"):
            info = replace(info, context=int(server["max_model_len"]))
        sources.append("server")
    if overrides:
        known = {f.name for f in fields(ModelInfo)} - {"name", "sources", "served"}
        info = replace(info, **{k: v for k, v in overrides.items() if k in known})
        sources.append("config")
    return replace(info, sources=tuple(sources))


class Catalog:
    """The models a session can use, fetched once from the gateway and cached.

    The cache follows the session: changing its URL, key, auth form or routes forgets the
    model list, so the next look-up asks the gateway that is configured now.

    Example::

        from jupyter_llm.core.session import catalog
        catalog()["qwen3-32b"].thinking_switch   # True
    """

    #: Session settings that change which gateway (or which key) answers ``/v1/models``.
    FOLLOWS = ("base_url", "api_key", "auth", "routes", "extra_headers")

    def __init__(self, session, client=None):
        self.session = session
        self._client = client
        self._served: dict[str, dict] | None = None
        self._unreachable = False
        session.observe(self._settings_changed, names=list(self.FOLLOWS))

    def _settings_changed(self, change) -> None:
        self.refresh()

    def refresh(self) -> None:
        """Forget the model list; the next look-up asks the gateway again."""
        self._served, self._unreachable = None, False

    def served(self) -> dict[str, dict]:
        """``/v1/models`` entries by id (fetched on first use; errors are raised)."""
        if self._served is None:
            client = self._client or Client(self.session)
            self._served = {m["id"]: m for m in client.models()}
            self._unreachable = False
        return self._served

    def __getitem__(self, name: str) -> ModelInfo:
        """What ``name`` can do: the family table, what the gateway says of it, the user's overrides.

        The gateway is asked once (without retries); when it cannot answer, the family table
        and the overrides decide, and it is asked again after :meth:`refresh`.
        """
        served = self._quietly_served().get(name)
        return describe(name, server=served, overrides=self.session.model_overrides.get(name))

    def _quietly_served(self) -> dict[str, dict]:
        if self._served is None and not self._unreachable:
            try:
                client = self._client or Client(self.session, max_retries=0)
                self._served = {m["id"]: m for m in client.models()}
            except errors.LLMError:
                self._unreachable = True
        return self._served or {}

    def names(self) -> list[str]:
        """The models served or described in the config file, those the allow-list holds only."""
        names = list(self.served())
        names += [n for n in self.session.model_overrides if n not in names]
        return [n for n in names if allows(self.session, n)]

    def models(self) -> list[ModelInfo]:
        self.served()
        return [self[name] for name in self.names()]

    def chat_models(self) -> list[str]:
        return [m.name for m in self.models() if m.kind == "chat"]

    def default_model(self, kind: str = "chat") -> str:
        """The first model of ``kind`` (chat, embedding, rerank) the gateway serves."""
        names = [m.name for m in self.models() if m.kind == kind and (m.served or kind == "chat")]
        if names:
            return names[0]
        how = "-m MODEL or set %llm_config model=NAME" if kind == "chat" else "model=NAME"
        raise errors.ConfigError(
            f"No model given and the gateway lists no {kind} model. Pass {how}; %llm_models shows what it serves.")

    def frame(self):
        """The catalogue as a pandas DataFrame, one row per model."""
        import pandas as pd

        rows = [m.as_row() for m in self.models()]
        return pd.DataFrame(rows).set_index("name") if rows else pd.DataFrame()

    def close_matches(self, name: str, n: int = 5) -> list[str]:
        # Real similarity or nothing: the first names of the list would only mislead.
        by_lower = {known.lower(): known for known in self.names()}
        return [by_lower[m] for m in difflib.get_close_matches(name.lower(), list(by_lower), n=n, cutoff=0.6)]
