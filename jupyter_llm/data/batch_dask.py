"""``map()`` over a Dask DataFrame: the same batch, run per partition with ``map_partitions``.

Each partition runs :func:`jupyter_llm.map` inside a Dask worker. A worker's session is
not the notebook's, so the connection settings go along with the task (a snapshot whose
``repr`` hides the key); each worker then has its own limiter and row cache. For a
global budget across the cluster, divide it: with W workers, ``max_concurrency=B // W``
(and ``requests_per_minute``/``tokens_per_minute`` likewise). Workers keep no call log and
cache rows in memory only: their disks are not the notebook's.
"""
from __future__ import annotations

from dataclasses import dataclass

from .. import errors
from ..core.client import Client
from ..core.session import current
from . import batch_job
from .schema import as_schema


def is_dask(data) -> bool:
    """True for a Dask DataFrame or Series (without importing Dask)."""
    return type(data).__module__.split(".")[0] == "dask" and hasattr(data, "map_partitions")


@dataclass(frozen=True)
class _Settings:
    """The notebook session's connection and limits, for a worker's session."""

    values: dict

    def __repr__(self) -> str:
        return f"<jupyter-llm settings for {self.values.get('base_url')}, key hidden>"

    def apply(self) -> None:
        session = current()
        for name, value in self.values.items():
            if getattr(session, name) != value:
                setattr(session, name, value)


_SHIPPED = ("api_key", "auth", "model", "think", "soft_think_switch", "temperature", "max_tokens", "timeout",
            "max_retries", "extra_headers", "max_concurrency", "requests_per_minute", "tokens_per_minute")


def _snapshot(model: str | None) -> _Settings:
    session = current()
    values = {name: getattr(session, name) for name in _SHIPPED}
    # A worker is another machine: no call log there, and no disk cache a later run could not find.
    values.update(log=False, cache="memory")
    # The endpoint resolves routes and the built-in emulator to a concrete URL a worker can use.
    endpoint = Client(session).endpoint(model or session.model)
    values.update(base_url=endpoint.base_url, api_key=endpoint.api_key, auth=endpoint.auth)
    return _Settings(values)


def _partition(frame, prompt, settings: _Settings, kwargs: dict):
    settings.apply()
    out = batch_job.run(frame, prompt, progress=False, confirm=True, **kwargs)
    out.attrs.clear()  # per partition; the errors column carries the reasons across the cluster
    if kwargs.get("schema") is not None:
        # Partitions must agree with the declared meta: plain object columns, errors always there.
        out = out.astype(object)
        if "errors" not in out:
            out["errors"] = None
    return out


def map_dask(data, prompt, *, confirm=False, **kwargs):
    """Lazy ``map()`` over each partition of ``data``; call ``.compute()`` on the result."""
    import pandas as pd

    over = current().batch_confirm_over
    if over and not confirm and len(data) > over:
        raise errors.ConfigError(
            f"map() would send {len(data):,} requests across the cluster. The gateway asks that heavy jobs be "
            f"announced and run when it is idle: pass confirm=True to go ahead, or raise the threshold with "
            f"%llm_config batch_confirm_over=N.")
    schema = kwargs.get("schema")
    if schema is None:
        meta = pd.Series([], dtype=object, name="answer")
    else:
        columns = as_schema(schema).fields
        meta = pd.DataFrame({c: pd.Series([], dtype=object) for c in [*columns, "errors"]})
    settings = _snapshot(kwargs.get("model"))
    return data.map_partitions(_partition, prompt, settings, kwargs, meta=meta)

