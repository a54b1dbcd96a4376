"""Embeddings: ``embed()`` vs the raw openai SDK, peak memory vs the bare matrix, ``similar()`` latency.

Each embedding run is a fresh ``python`` process (so the session cache is empty and
``ru_maxrss`` is its own): it builds the texts, imports everything, records
``ru_maxrss`` as the baseline, runs, and reports the time and the peak above baseline.
The emulator runs in its own process. Vectors are asked for at 1,024 dimensions.

Layout shown here: the ``embedding`` column is a pandas extension array over one
C-contiguous ``(n, d)`` float32 block (``jupyter_llm.vectors(df)`` returns it, no copy).
"""
from __future__ import annotations

import json
import subprocess
import sys
import time

from ._harness import FAKE_KEY, ROOT, Context, median
from ._report import Row, seconds, size

FULL = dict(texts=100_000, rows=100_000, repeats=21)
QUICK = dict(texts=4_000, rows=20_000, repeats=5)
DIMS = 1024
BATCH = 64
MODEL = "Qwen3-Embedding-8B"

_CHILD = r"""
import json, resource, sys, time
mode, url, key, n, dims, batch, model = sys.argv[1:8]
n, dims, batch = int(n), int(dims), int(batch)
words = ["cat", "dog", "bread", "flour", "stock", "bond", "planet", "star", "goal", "match", "rain", "snow"]
texts = [f"item {i}: {words[i % 12]} and {words[(i * 7) % 12]} number {i % 997}" for i in range(n)]
import numpy as np, openai, pandas as pd
import jupyter_llm
from jupyter_llm.data.embeddings import embed, vectors
base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
start = time.perf_counter()
if mode == "ours":
    s = jupyter_llm.session
    s.base_url, s.api_key = url, key
    df = embed(texts, model=model, dimensions=dims, batch_size=batch)
    shape = vectors(df).shape
else:
    # What a notebook author writes: the same batches, one after another, kept as float32.
    client = openai.OpenAI(base_url=url, api_key=key, max_retries=0)
    parts = []
    for i in range(0, n, batch):
        answer = client.embeddings.create(model=model, input=texts[i:i + batch], dimensions=dims)
        parts.append(np.array([d.embedding for d in answer.data], dtype=np.float32))
    matrix = np.vstack(parts)
    df = pd.DataFrame({"text": texts, "embedding": list(matrix)})
    shape = matrix.shape
elapsed = time.perf_counter() - start
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"seconds": elapsed, "peak_above_base": peak - base, "shape": list(shape)}))
"""


def _child(mode: str, ctx: Context, n: int) -> dict:
    run = subprocess.run([sys.executable, "-c", _CHILD, mode, ctx.emulator.url, FAKE_KEY, str(n), str(DIMS),
                          str(BATCH), MODEL], cwd=ROOT, env=ctx.env, capture_output=True, text=True, timeout=1800)
    if run.returncode != 0:
        raise RuntimeError(f"embedding benchmark ({mode}) failed: {run.stderr[-2000:]}")
    return json.loads(run.stdout.strip().splitlines()[-1])


def _similar(rows: int, repeats: int) -> dict:
    import numpy as np
    import pandas as pd

    from jupyter_llm.data.embeddings import similar
    from jupyter_llm.data.vectors import VectorArray

    rng = np.random.default_rng(0)
    block = rng.standard_normal((rows, DIMS), dtype=np.float32)
    frame = pd.DataFrame({"text": [f"t{i}" for i in range(rows)], "embedding": VectorArray(block)}, copy=False)
    queries = rng.standard_normal((repeats + 1, DIMS), dtype=np.float32)
    start = time.perf_counter()
    similar(queries[0], frame, k=10)  # the first call also computes the row norms, once per frame
    first = time.perf_counter() - start
    times = []
    for q in queries[1:]:
        start = time.perf_counter()
        similar(q, frame, k=10)
        times.append(time.perf_counter() - start)
    # Reference: the same top-10 by plain numpy on the bare matrix (matmul + argpartition + sort).
    bare = []
    for q in queries[1:]:
        start = time.perf_counter()
        scores = block @ q
        top = np.argpartition(-scores, 9)[:10]
        top[np.argsort(-scores[top])]
        bare.append(time.perf_counter() - start)
    return {"rows": rows, "first": first, "times": times, "bare": bare}


def collect(ctx: Context) -> dict:
    sizes = QUICK if ctx.quick else FULL
    ours = _child("ours", ctx, sizes["texts"])
    base = _child("baseline", ctx, sizes["texts"])
    return {"n": sizes["texts"], "ours": ours, "baseline": base, "similar": _similar(sizes["rows"], sizes["repeats"])}


def rows(data: dict) -> list[Row]:
    n, ours, base = data["n"], data["ours"], data["baseline"]
    matrix = n * DIMS * 4
    mem = ours["peak_above_base"] / matrix
    sim = data["similar"]
    t = median(sim["times"])
    return [
        Row(f"`embed()` of {n:,} short texts at {DIMS:,} dims, wall time (batches of {BATCH}, 4 concurrent; "
            f"baseline: raw openai SDK, same batches, sequential)",
            seconds(ours["seconds"]), seconds(base["seconds"]), ours["seconds"] / base["seconds"], "–", None),
        Row(f"`embed()` of {n:,} texts, peak memory above baseline (baseline column: the bare float32 matrix, "
            f"{n:,} x {DIMS:,} x 4 B)",
            size(ours["peak_above_base"]), size(matrix), mem, "≤ 1.3x", mem <= 1.3),
        Row(f"`similar()` top-10 over {sim['rows']:,} x {DIMS:,} (median of {len(sim['times'])}; baseline: "
            f"bare numpy matmul + argpartition)",
            seconds(t), seconds(median(sim["bare"])), t / median(sim["bare"]), "≤ 50 ms", t <= 0.05),
    ]


def notes(data: dict) -> list[str]:
    base, sim = data["baseline"], data["similar"]
    return [
        f"Embeddings: the raw-SDK baseline (it decodes base64 into Python float lists, then float32 per batch) "
        f"peaked {size(base['peak_above_base'])} above its own baseline; `embed()` decodes base64 with "
        f"`numpy.frombuffer` into one preallocated block.",
        f"`similar()`: the first call on a frame also computes its row norms ({seconds(sim['first'])} for "
        f"{sim['rows']:,} rows); later calls reuse them.",
    ]
