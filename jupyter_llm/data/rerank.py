"""Rerank documents against a query with a cross-encoder model: :func:`rerank`.

Two answer shapes exist in the wild and both are read: vLLM's (Jina/Cohere)
``{"results": [{"index", "relevance_score", "document"}]}`` and SGLang's bare list
``[{"index", "score", "document"}]``.
"""
from __future__ import annotations

import json
import math
import time

import numpy as np
import pandas as pd

from .. import errors
from ..core.client import Client
from ..core.notes import note
from ..core.session import catalog, current
from .calls import record_call


def rerank(query: str, documents, *, top_n: int | None = None, model: str | None = None,
           column: str | None = None) -> pd.DataFrame:
    """Score ``documents`` against ``query``; a DataFrame (original index, ``document``, ``score``), best first.

    ``documents`` is a list, a Series, or a DataFrame with ``column=``; the result's index
    is the documents' own (list positions for a list). None/NaN documents are not sent.
    ``top_n`` keeps the best ``top_n``; ``model`` defaults to the first rerank model served.

    Example::

        ranked = jupyter_llm.rerank("what is a GPU", ["a graphics processor", "a fruit", "CUDA cores"])
        ranked.iloc[0]["document"]      # 'a graphics processor'
    """
    if not isinstance(query, str) or not query.strip():
        raise errors.ConfigError("rerank() needs a non-empty query string.")
    if top_n is not None and (not isinstance(top_n, int) or isinstance(top_n, bool) or top_n < 1):
        raise errors.ConfigError(f"top_n must be a whole number, 1 or more, or None, not {top_n!r}.")
    series = _documents(documents, column)
    keep = [i for i, v in enumerate(series.tolist()) if not _missing(v)]
    if len(keep) < len(series):
        note(f"{len(series) - len(keep):,} missing documents were not sent to the reranker.")
    texts = [str(series.iloc[i]) for i in keep]
    if not texts:
        return pd.DataFrame({"document": pd.Series([], dtype=object), "score": pd.Series([], dtype=float)},
                            index=series.index[:0])
    session = current()
    model = model or catalog(session).default_model("rerank")
    body = {"model": model, "query": query, "documents": texts}
    if top_n is not None:
        body["top_n"] = top_n
    started = time.perf_counter()
    params = {"top_n": top_n} if top_n is not None else {}
    try:
        answer = Client(session).rerank(body, on_notice=note)
    except errors.LLMError as exc:
        record_call("rerank", model, params=params, inputs={"query": query, "documents": texts}, started=started,
                    error=exc)
        raise
    pairs = parse(answer, len(texts), model)
    record_call("rerank", model, params=params, inputs={"query": query, "documents": texts},
                outcome=json.dumps([{"index": i, "score": s} for i, s in sorted(pairs, key=lambda p: -p[1])]),
                started=started)
    pairs.sort(key=lambda p: (-p[1], p[0]))
    if top_n is not None:
        pairs = pairs[:top_n]
    rows = np.array([keep[i] for i, _ in pairs], dtype=np.intp)
    return pd.DataFrame(
        {"document": np.array([texts[i] for i, _ in pairs], dtype=object),
         "score": np.array([s for _, s in pairs], dtype=np.float64)},
        index=series.index[rows],
    )


def parse(answer, count: int, model: str = "the reranker") -> list[tuple[int, float]]:
    """``(index, score)`` pairs from a vLLM/Jina/Cohere or an SGLang rerank answer."""
    items = answer.get("results", answer.get("data")) if isinstance(answer, dict) else answer
    if not isinstance(items, list):
        raise errors.GatewayError(f"{model} sent a rerank answer of an unknown shape (no results list).")
    pairs = []
    for item in items:
        if not isinstance(item, dict):
            raise errors.GatewayError(f"{model} sent a rerank result that is not an object: {item!r:.80}")
        index = item.get("index")
        score = item.get("relevance_score", item.get("score"))
        if not isinstance(index, int) or not 0 <= index < count or not isinstance(score, (int, float)):
            raise errors.GatewayError(f"{model} sent a rerank result without a valid index and score: {item!r:.120}")
        pairs.append((index, float(score)))
    return pairs


def _documents(documents, column: str | None) -> pd.Series:
    if isinstance(documents, pd.DataFrame):
        if column is None:
            raise errors.ConfigError("rerank() got a DataFrame: say which column holds the text, e.g. column='text'.")
        return documents[column]
    if isinstance(documents, pd.Series):
        return documents
    if isinstance(documents, str):
        raise errors.ConfigError("rerank() needs a list of documents, not one string.")
    return pd.Series(list(documents), dtype=object)


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))
