"""Embeddings as pandas DataFrames: :func:`embed`, :func:`similar`, :func:`search`, :func:`vectors`.

Vectors travel as base64 little-endian float32 and are decoded straight into one
preallocated ``(n, d)`` float32 block, which the frame's ``embedding`` column holds
(see :mod:`jupyter_llm.vectorarray`). Each distinct text is embedded once per
session: the cache is keyed by ``sha256(model, dimensions, text as sent)``.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import math
import queue
import threading
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from .. import errors
from ..core import event_loop
from ..core.client import Client
from ..core.notes import note
from ..core.session import catalog, current
from . import cache as cache_store
from .calls import record_call
from .rerank import rerank as _rerank
from .vectors import VectorArray

COLUMN = "embedding"
#: Batches above which a progress bar is shown (when tqdm is installed).
PROGRESS_BATCHES = 16

def clear_cache() -> None:
    """Forget every cached vector and ``map()`` row (on disk too: see :mod:`.cache`)."""
    cache_store.clear()


def cache_size() -> int:
    """How many distinct (model, dimensions, text) vectors the cache holds."""
    stats = cache_store.stats()
    return stats["memory_vectors"] if cache_store.mode() == "memory" else stats["disk_vectors"]


def with_instruction(text: str, instruction: str | None) -> str:
    """A query as Qwen3-Embedding wants it: ``Instruct: {task}\\nQuery:{query}`` (documents go bare)."""
    return text if not instruction else f"Instruct: {instruction}\nQuery:{text}"


def embed(
    texts,
    *,
    model: str | None = None,
    dimensions: int | None = None,
    instruction: str | None = None,
    column: str | None = None,
    batch_size: int = 64,
    concurrency: int = 4,
    cache: bool = True,
) -> pd.DataFrame:
    """Embed ``texts`` and return a DataFrame: one row per input, same index, ``text`` and ``embedding``.

    ``texts`` is a list, a Series, or a DataFrame with ``column=``. The ``embedding``
    column holds one float32 block (``jupyter_llm.vectors(df)`` gives it as an ``(n, d)``
    read-only array without a copy); ``df.attrs`` records the request's ``model``,
    ``dimensions`` (None: the model's full size) and ``instruction``.
    Requests go in batches of ``batch_size``, ``concurrency`` at a time. None, NaN and
    empty strings are not sent and get a NaN vector; duplicates are sent once; texts
    already embedded in this session (same model and dimensions) are not sent again.
    ``instruction`` is for queries only (Qwen3-Embedding): each text is sent as
    ``Instruct: {instruction}\\nQuery:{text}``. ``dimensions`` asks a Matryoshka model
    for shorter vectors.

    Example::

        df = jupyter_llm.embed(["a cat sat", "a dog ran", "stock prices fell"])
        jupyter_llm.vectors(df).shape          # (3, 4096)
        jupyter_llm.similar("kitten", df, k=2)
    """
    source = _as_series(texts, column)
    if not isinstance(batch_size, int) or batch_size < 1:
        raise errors.ConfigError(f"batch_size must be a whole number, 1 or more, not {batch_size!r}.")
    if not isinstance(concurrency, int) or concurrency < 1:
        raise errors.ConfigError(f"concurrency must be a whole number, 1 or more, not {concurrency!r}.")
    if dimensions is not None and (not isinstance(dimensions, int) or isinstance(dimensions, bool) or dimensions < 1):
        raise errors.ConfigError(f"dimensions must be a whole number of dimensions, not {dimensions!r}.")
    session = current()
    model = model or catalog(session).default_model("embedding")
    if catalog(session)[model].kind == "rerank":
        raise errors.CapabilityError(
            f"{model} is a rerank model, not an embedding model: use jupyter_llm.rerank() with it, or pass "
            f"model= an embedding model (%llm_models lists them; leave it out for the first one served)."
        )

    # One position per distinct text; missing inputs are never sent.
    values = source.tolist()
    n = len(values)
    sent: list[str | None] = [None] * n
    missing = 0
    for i, value in enumerate(values):
        if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
            missing += 1
            continue
        text = value if isinstance(value, str) else str(value)
        if not text.strip():
            missing += 1
            continue
        sent[i] = with_instruction(text, instruction)
    first: dict[str, int] = {}
    for i, text in enumerate(sent):
        if text is not None and text not in first:
            first[text] = i
    prefix = f"{model}\x00{dimensions}\x00".encode()
    keys = {text: hashlib.sha256(prefix + text.encode("utf-8", "surrogatepass")).digest() for text in first}
    texts = list(first)
    cached, hit = cache_store.get_vectors([keys[t] for t in texts], dimensions) if cache else (None, None)
    todo = [t for t, h in zip(texts, hit) if not h] if cache else texts
    if missing:
        note(f"{missing:,} of {n:,} inputs are empty or missing; their vectors are NaN.")
    if cache and len(first) > len(todo):
        record_call("embeddings", model, params={"dimensions": dimensions, "instruction": instruction,
                                                 "from_cache": len(first) - len(todo)},
                    inputs=None, started=time.perf_counter(), source="cache")

    client = Client(session)
    request = dict(model=model, encoding_format="base64")
    if dimensions is not None:
        request["dimensions"] = dimensions

    async def fetch(batch: list[str]) -> list[np.ndarray]:
        started = time.perf_counter()
        params = {k: v for k, v in request.items() if k != "model"} | {"instruction": instruction}
        try:
            body = await client.embeddings_async(dict(request, input=batch), on_notice=note)
        except errors.LLMError as exc:
            record_call("embeddings", model, params=params, inputs=batch, started=started, error=exc)
            refused = _dimensions_refused(exc, model, dimensions) if isinstance(exc, errors.BadRequest) else None
            if refused is None:
                raise
            raise refused from exc
        record_call("embeddings", model, params=params, inputs=batch, started=started, usage=body.get("usage"))
        return _decode(body, len(batch), model)

    block: np.ndarray | None = None
    batches = [todo[i:i + batch_size] for i in range(0, len(todo), batch_size)]
    dim = dimensions or (cached.shape[1] if cached is not None else None)

    segments: list[str] = []

    def store(batch: list[str], rows: list[np.ndarray]) -> None:
        positions = [first[text] for text in batch]
        for position, row in zip(positions, rows):
            block[position] = row
        if cache:
            segment = cache_store.put_vectors([keys[text] for text in batch], block[positions])
            if segment:
                segments.append(segment)

    pending = batches
    leftover: list[np.ndarray] | None = None
    if batches and dim is None:
        # The first answer tells the width of the block; the rest then decode straight into it.
        leftover = event_loop.submit(fetch(batches[0])).result()
        dim = leftover[0].shape[0] if leftover else 0
    if cached is not None and not todo and len(texts) == n:
        # Every input distinct, present and cached, so the cache's fresh matrix is the block:
        # no second copy of what may be hundreds of megabytes.
        block = cached
    else:
        block = np.full((n, dim or 0), np.nan, dtype=np.float32)
    if cached is not None and block is not cached:
        if cached.shape[1] != block.shape[1]:
            raise errors.GatewayError(f"{model} returned vectors of {block.shape[1]} dimensions; the cache holds "
                                      f"{cached.shape[1]}. Clear it with %llm_cache --clear.")
        block[np.array([first[t] for t in texts])[hit]] = cached[hit]
    if leftover is not None:
        store(batches[0], leftover)
        pending = batches[1:]
    _run(pending, fetch, store, concurrency, total=len(batches), done=len(batches) - len(pending))
    if len(segments) > 1:
        # One segment in the order of the texts reads back at np.load's speed; a segment per request does not.
        rows = [first[text] for text in todo]
        whole = slice(rows[0], rows[-1] + 1) if rows[-1] - rows[0] == len(rows) - 1 else rows
        cache_store.join_vectors(segments, [keys[text] for text in todo], block[whole])

    # Duplicates copy the first occurrence's row, in place.
    dup_rows = [i for i, text in enumerate(sent) if text is not None and first[text] != i]
    if dup_rows:
        block[dup_rows] = block[[first[sent[i]] for i in dup_rows]]
    block.flags.writeable = False
    frame = pd.DataFrame({"text": source.to_numpy(dtype=object, copy=False),
                          COLUMN: VectorArray(block)}, index=source.index, copy=False)
    # The request's settings, so embed(other_texts, **df.attrs) gives vectors of the same space.
    frame.attrs.update(model=model, dimensions=dimensions, instruction=instruction)
    return frame


def vectors(frame, column: str = COLUMN) -> np.ndarray:
    """The ``(n, d)`` float32 array behind an embedding column, without a copy.

    Example::

        df = jupyter_llm.embed(texts)
        matrix = jupyter_llm.vectors(df)     # shares memory with df["embedding"]
        matrix @ matrix[0]
    """
    series = frame[column] if isinstance(frame, pd.DataFrame) else frame
    array = series.array if isinstance(series, pd.Series) else series
    if isinstance(array, VectorArray):
        return array.block
    if isinstance(series, pd.Series) and series.dtype == object and len(series):
        return np.vstack(series.to_list()).astype(np.float32, copy=False)
    raise errors.ConfigError(f"column {column!r} holds no embedding vectors (dtype {series.dtype}); "
                             f"make it with jupyter_llm.embed().")


def similar(query, frame: pd.DataFrame, k: int = 10, *, instruction: str | None = None,
            column: str = COLUMN) -> pd.DataFrame:
    """The ``k`` rows of ``frame`` closest to ``query`` by cosine, best first, with a ``score`` column.

    ``query`` is a string (embedded with the frame's model and dimensions; ``instruction``
    is applied to it, never to the documents), a vector, or a row of the frame (that row
    itself is left out of the answer). The original columns and index are kept.

    Example::

        docs = jupyter_llm.embed(snippets["text"])
        jupyter_llm.similar("how do I train a model", docs, k=5,
                            instruction="Given a question, retrieve passages that answer it")
    """
    array = frame[column].array
    block = vectors(frame, column)
    norms = array.norms() if isinstance(array, VectorArray) else np.linalg.norm(block, axis=1)
    exclude = None
    if isinstance(query, str):
        # The frame's own request settings (model, dimensions), so the query lands in the same space.
        q = vectors(embed([query], model=frame.attrs.get("model"), dimensions=frame.attrs.get("dimensions"),
                          instruction=instruction))[0]
    elif isinstance(query, pd.Series) and column in query.index:
        q = np.asarray(query[column], dtype=np.float32)
        exclude = query.name
    else:
        q = np.asarray(query, dtype=np.float32).reshape(-1)
    if q.shape[0] != block.shape[1]:
        raise errors.ConfigError(f"the query vector has {q.shape[0]} dimensions, the frame's have {block.shape[1]}.")
    scores = block @ q
    scores /= norms * max(float(np.linalg.norm(q)), 1e-30)
    scores[np.isnan(scores)] = -np.inf
    if exclude is not None:
        scores[frame.index.get_indexer_for([exclude])] = -np.inf
    valid = int(np.isfinite(scores).sum())
    k = max(0, min(int(k), valid))
    top = np.argpartition(-scores, k - 1)[:k] if 0 < k < len(scores) else np.arange(len(scores))
    top = top[np.argsort(-scores[top], kind="stable")][:k]
    out = frame.iloc[top].copy()
    out.insert(0, "score", scores[top])
    return out


def search(query: str, frame: pd.DataFrame, k: int = 10, *, rerank: bool = True, candidates: int | None = None,
           instruction: str | None = None, model: str | None = None, column: str = COLUMN,
           text: str = "text") -> pd.DataFrame:
    """Two-stage retrieval: the ``candidates`` nearest rows by cosine, then reranked; the best ``k``.

    The result keeps the frame's columns and index, with ``score`` (the reranker's, or the
    cosine when ``rerank=False``) and ``similarity`` (the cosine). ``model`` is the rerank model.

    Example::

        hits = jupyter_llm.search("why is my GPU idle", docs, k=5)
    """
    if not isinstance(query, str):
        raise errors.ConfigError("search() needs a query string (the reranker reads text).")
    pool = candidates or max(50, 5 * k)
    hits = similar(query, frame, k=pool if rerank else k, instruction=instruction, column=column)
    hits = hits.rename(columns={"score": "similarity"})
    if not rerank or hits.empty:
        hits.insert(0, "score", hits["similarity"].to_numpy())
        return hits.head(k)

    ranked = _rerank(query, hits[text], top_n=k, model=model)
    out = hits.loc[ranked.index].copy()
    out.insert(0, "score", ranked["score"].to_numpy())
    return out


def _dimensions_refused(exc: errors.BadRequest, model: str, dimensions) -> errors.LLMError | None:
    text = exc.message.lower()
    if dimensions is None or not ("matryoshka" in text or "dimensions" in text):
        return None
    return errors.CapabilityError(
        f"{model} refuses dimensions={dimensions}: this server does not enable Matryoshka embeddings, "
        f"so it only returns full-size vectors. Leave dimensions out (and shorten the vectors yourself "
        f"if you must), or ask the gateway's admins to enable it. Server said: {exc.message}",
        status_code=exc.status_code,
    )


def _decode(body, expected: int, model: str) -> list[np.ndarray]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, list) or len(data) != expected:
        got = len(data) if isinstance(data, list) else "no"
        raise errors.GatewayError(f"{model} answered {got} vectors for {expected} inputs.")
    rows: list[np.ndarray | None] = [None] * expected
    for position, item in enumerate(data):
        index = item.get("index", position)
        vector = item.get("embedding")
        if isinstance(vector, str):
            rows[index] = np.frombuffer(base64.b64decode(vector), dtype="<f4")
        else:  # a server that ignores encoding_format and sends floats
            rows[index] = np.asarray(vector, dtype=np.float32)
    if any(r is None for r in rows):
        raise errors.GatewayError(f"{model} skipped some inputs in its answer.")
    return rows


def _run(batches, fetch: Callable, store: Callable, concurrency: int, *, total: int, done: int) -> None:
    """``store(batch, await fetch(batch))`` for every batch, ``concurrency`` at a time on the batch loop."""
    if not batches:
        return
    bar = _progress(total, done)
    finished: queue.SimpleQueue = queue.SimpleQueue()
    stop = threading.Event()

    async def worker(work) -> None:
        for batch in work:  # shared by the workers: each takes the next batch
            if stop.is_set():
                return
            try:
                finished.put((batch, await fetch(batch)))
            except Exception as exc:
                finished.put((batch, exc))
                return

    async def all_batches() -> None:
        work = iter(batches)
        await asyncio.gather(*(worker(work) for _ in range(min(concurrency, len(batches)))))

    event_loop.submit(all_batches())
    try:
        # Stored on this thread, which owns the block; the first error stops the rest from starting.
        for _ in batches:
            batch, answer = finished.get()
            if isinstance(answer, BaseException):
                raise answer
            store(batch, answer)
            bar and bar.update(1)
    finally:
        stop.set()
        if bar:
            bar.close()


def _progress(total: int, done: int):
    if total <= PROGRESS_BATCHES:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=done, desc="embedding", unit="batch")


def _as_series(texts, column: str | None) -> pd.Series:
    if isinstance(texts, pd.DataFrame):
        if column is None:
            raise errors.ConfigError(f"embed() got a DataFrame: say which column holds the text, "
                                     f"e.g. column={next(iter(texts.columns), 'text')!r}.")
        return texts[column]
    if isinstance(texts, pd.Series):
        return texts
    if isinstance(texts, str):
        return pd.Series([texts], dtype=object)
    if isinstance(texts, np.ndarray) or hasattr(texts, "__iter__"):
        return pd.Series(list(texts), dtype=object)
    raise errors.ConfigError(f"embed() needs a list, a Series or a DataFrame with column=, not {type(texts).__name__}.")
