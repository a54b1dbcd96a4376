"""What each model can do: ``/v1/models`` merged with built-in families and user overrides.

The gateway adds and retires models often, so no logic names a model: capabilities come
from the family table below (data, matched by glob pattern), what the server reports,
and ``[models."NAME"]`` tables in the user's config file, in rising priority.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field, fields, replace

#: Families of the gateway's models, most specific pattern first. Unknown capabilities stay None.
FAMILIES: list[tuple[str, dict]] = [
    ("*embedding*", dict(kind="embedding", context=32768)),
    ("*rerank*", dict(kind="rerank", context=8192)),
    ("qwq-32b-128k*", dict(context=131072, tools=True, thinking=True, thinking_switch=False, structured=True,
                           vision=False)),
    ("qwq*", dict(context=65536, tools=False, thinking=True, thinking_switch=False, vision=False)),
    ("qwen3-*", dict(context=32768, tools=True, thinking=True, thinking_switch=True, structured=True, vision=False)),
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
    merged: dict = {}
    for pattern, caps in FAMILIES:
        if fnmatch.fnmatchcase(name.lower(), pattern):
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

    Example::

        from jupyter_llm.catalog import Catalog
        catalog = Catalog(jupyter_llm.session)
        catalog["qwen3-32b"].thinking_switch   # True
    """

    def __init__(self, session, transport=None):
        self._session = session
        self._transport = transport
        self._served: dict[str, dict] | None = None

    def refresh(self) -> None:
        self._served = None

    def served(self) -> dict[str, dict]:
        """``/v1/models`` entries by id (fetched on first use)."""
        if self._served is None:
            from .transport import default_transport

            transport = self._transport or default_transport()
            self._served = {m["id"]: m for m in transport.list_models(self._session)}
        return self._served

    def __getitem__(self, name: str) -> ModelInfo:
        served = self._served.get(name) if self._served is not None else None
        return describe(name, server=served, overrides=self._session.model_overrides.get(name))

    def lookup(self, name: str) -> ModelInfo:
        """Like ``catalog[name]`` but without asking the server (no network)."""
        return self[name]

    def names(self) -> list[str]:
        names = list(self.served())
        names += [n for n in self._session.model_overrides if n not in names]
        return names

    def models(self) -> list[ModelInfo]:
        self.served()
        return [self[name] for name in self.names()]

    def chat_models(self) -> list[str]:
        return [m.name for m in self.models() if m.kind == "chat"]

    def frame(self):
        """The catalogue as a pandas DataFrame, one row per model."""
        import pandas as pd

        rows = [m.as_row() for m in self.models()]
        return pd.DataFrame(rows).set_index("name") if rows else pd.DataFrame()

    def close_matches(self, name: str, n: int = 5) -> list[str]:
        import difflib

        names = self.names()
        return difflib.get_close_matches(name, names, n=n, cutoff=0.4) or names[:n]
