"""``map()``: 500 rows at 100 ms a request, 16 at a time, and 5,000 rows 64 at a time, vs the ideal.

The emulator runs in its own process and holds every request for ``latency`` before it
answers (a short 20-token reply, no reasoning), so the ideal wall time of ``n`` rows at
concurrency ``c`` is ``ceil(n / c) x latency``: each of the ``c`` slots sends its rows one
after another, so 500 rows at 16 take 32 rounds, not 31.25. A floor is measured in the same
run, interleaved with ours: the same requests from bare aiohttp on one event loop, which
shows what the emulator (its own parsing and writing) and this machine's load add to any
client. The baselines are what a notebook author writes
today: a for-loop over the rows with the openai SDK, one streamed request at a time, and
the same requests from a pool of 16 threads (no limiter, no retries). On a small
machine the client's own CPU per request (mostly the SDK's) is what separates a run
from the ideal; the thread-pool row measures that floor in the same run.
A second run puts a ceiling of 8 requests in flight on the emulator (429 with its
default Retry-After beyond it) under a batch that asks for 16: it must finish with no
row lost, the limiter shrinking itself on the 429s. A third pair of runs, with no emulator
latency so that the client's own cost shows, records the batch to a cassette and does not:
recording appends one line per exchange, so its cost must not grow with the file.
The client's CPU per request is this process's CPU time (every thread, user and system)
over a batch, divided by its rows; the baseline is the same count for the thread pool of
openai SDK requests.
"""
from __future__ import annotations

import asyncio
import json
import math
import os
import resource
import tempfile
import time
from pathlib import Path

from ._harness import FAKE_KEY, MODEL, Context, median
from ._report import Row, seconds

FULL = dict(rows=500, repeats=3, large=5000)
QUICK = dict(rows=40, repeats=1, large=128)
LATENCY = 0.1
CONCURRENCY = 16
LARGE_CONCURRENCY = 64
CEILING = 8
SETTINGS = f"latency={LATENCY:g}; answer_tokens=20"
INSTANT = "answer_tokens=20"


def _texts(n: int, run: str) -> list[str]:
    # A fresh prompt per run, so no run is answered from the cache of another.
    return [f"Review {i} ({run}): the {('mug', 'lamp', 'scarf', 'kettle')[i % 4]} arrived on time." for i in range(n)]


def _cpu() -> float:
    """This process's CPU seconds so far: every thread, user and system."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ours(n: int, run: str, headers: str, concurrency: int = CONCURRENCY) -> dict:
    import jupyter_llm
    from jupyter_llm.core import limiter

    session = jupyter_llm.session
    session.extra_headers = {"X-Emulator": headers}
    limiter.shared().reset()
    texts = _texts(n, run)
    cpu, start = _cpu(), time.perf_counter()
    out = jupyter_llm.map(texts, "Classify the sentiment: {text}", model=MODEL, think=False,
                          concurrency=concurrency, progress=False, confirm=True)
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    return {"rows": n, "seconds": elapsed, "answered": int(out.notna().sum()), "failed": len(out.attrs["errors"]),
            "throttled": limiter.shared().throttled, "cpu_per_request": cpu / n, "load": os.getloadavg()[0]}


def _floor(ctx: Context, n: int, run: str) -> float:
    """Seconds for the same rows from bare aiohttp, 16 at a time on one loop: no limiter, no log, no parsing of the answer."""
    import aiohttp

    headers = {"Authorization": f"Bearer {FAKE_KEY}", "Content-Type": "application/json", "X-Emulator": SETTINGS}
    url = ctx.emulator.url + "/chat/completions"

    async def batch() -> float:
        async with aiohttp.ClientSession(headers=headers, connector=aiohttp.TCPConnector(limit=0)) as session:
            async def worker(texts) -> None:
                for text in texts:
                    body = {"model": MODEL, "stream": False, "chat_template_kwargs": {"enable_thinking": False},
                            "messages": [{"role": "user", "content": f"Classify the sentiment: {text}"}]}
                    async with session.post(url, data=json.dumps(body).encode()) as response:
                        json.loads(await response.read())

            await worker(_texts(1, f"{run} warm-up"))  # a connection open before the clock starts, as ours has
            texts, start = iter(_texts(n, run)), time.perf_counter()
            await asyncio.gather(*(worker(texts) for _ in range(CONCURRENCY)))
            return time.perf_counter() - start

    return asyncio.run(batch())


def _sdk(ctx: Context, n: int, run: str, threads: int) -> dict:
    """The openai SDK, one streamed request per row: a plain loop, or the same in a thread pool."""
    from concurrent.futures import ThreadPoolExecutor

    import openai

    client = openai.OpenAI(base_url=ctx.emulator.url, api_key=FAKE_KEY, max_retries=0,
                           default_headers={"X-Emulator": SETTINGS})

    def one(text: str) -> str:
        stream = client.chat.completions.create(
            model=MODEL, stream=True, extra_body={"chat_template_kwargs": {"enable_thinking": False}},
            messages=[{"role": "user", "content": f"Classify the sentiment: {text}"}])
        return "".join(c.choices[0].delta.content or "" for c in stream if c.choices)

    texts = _texts(n, run)
    cpu, start = _cpu(), time.perf_counter()
    if threads == 1:
        answers = [one(text) for text in texts]
    else:
        with ThreadPoolExecutor(threads) as pool:
            answers = list(pool.map(one, texts))
    assert len(answers) == n
    return {"seconds": time.perf_counter() - start, "cpu_per_request": (_cpu() - cpu) / n}


def collect(ctx: Context) -> dict:
    import jupyter_llm

    sizes = QUICK if ctx.quick else FULL
    n = sizes["rows"]
    session = jupyter_llm.session
    session.base_url, session.api_key, session.model = ctx.emulator.url, FAKE_KEY, MODEL
    session.max_concurrency = CONCURRENCY
    _ours(CONCURRENCY, "warm-up", SETTINGS)  # the SDK import and the connection pool, once
    runs, floor = [], []
    for i in range(sizes["repeats"]):  # interleaved, so a change in the machine's load falls on both
        runs.append(_ours(n, f"run {i}", SETTINGS))
        floor.append(_floor(ctx, n, f"floor {i}"))
    _sdk(ctx, CONCURRENCY, "sdk warm-up", CONCURRENCY)
    pooled = [_sdk(ctx, n, f"threads {i}", CONCURRENCY) for i in range(sizes["repeats"])]
    sequential = _sdk(ctx, n, "loop", 1)["seconds"]
    session.max_concurrency = LARGE_CONCURRENCY
    _ours(LARGE_CONCURRENCY, "large warm-up", SETTINGS, LARGE_CONCURRENCY)  # 64 connections open
    large = _ours(sizes["large"], "large", SETTINGS, LARGE_CONCURRENCY)
    session.max_concurrency = CONCURRENCY
    ceiling = _ours(n, "ceiling", f"{SETTINGS}; max_concurrency={CEILING}")
    plain = median([_ours(n, f"unrecorded {i}", INSTANT)["seconds"] for i in range(sizes["repeats"])])
    recorded = []
    with tempfile.TemporaryDirectory() as folder:
        for i in range(sizes["repeats"]):
            with jupyter_llm.cassette(Path(folder) / "map.llm.jsonl", mode="record"):
                recorded.append(_ours(n, f"recorded {i}", INSTANT)["seconds"])
    session.extra_headers = {}
    return {"rows": n, "runs": runs, "floor": median(floor), "threaded": median([r["seconds"] for r in pooled]),
            "threaded_cpu": median([r["cpu_per_request"] for r in pooled]), "sequential": sequential,
            "large": large, "ceiling": ceiling, "plain": plain, "recorded": median(recorded)}


def rows(data: dict) -> list[Row]:
    n = data["rows"]
    ours = median([r["seconds"] for r in data["runs"]])
    ideal = _ideal(n, CONCURRENCY)
    what = f"{n} rows, emulator latency {LATENCY * 1000:.0f} ms, concurrency {CONCURRENCY}"
    ceiling = data["ceiling"]
    ceiling_ideal = _ideal(n, CEILING)
    lost = n - ceiling["answered"]
    large = data["large"]
    big, wide = large["rows"], LARGE_CONCURRENCY
    large_ideal = _ideal(big, wide)
    cpu = median([r["cpu_per_request"] for r in data["runs"]])
    load = median([r["load"] for r in data["runs"]])
    return [
        Row(f"`map()` wall time, {what} (median of {len(data['runs'])}: {_each((r['seconds'] / ideal for r in data['runs']), 3)}x; "
            f"1-min load {load:.1f}; baseline: the ideal "
            f"ceil({n}/{CONCURRENCY}) x {LATENCY:g} s)", seconds(ours), seconds(ideal), ours / ideal, "≤ 1.08x",
            ours / ideal <= 1.08),
        Row(f"`map()` wall time, {big} rows, emulator latency {LATENCY * 1000:.0f} ms, concurrency {wide} (1-min load "
            f"{large['load']:.1f}; {large['answered']} answered; baseline: the ideal ceil({big}/{wide}) x {LATENCY:g} s)",
            seconds(large["seconds"]), seconds(large_ideal), large["seconds"] / large_ideal, "≤ 1.2x",
            large["seconds"] / large_ideal <= 1.2 and large["answered"] == big),
        Row(f"Client CPU per `map()` row, {what} (median of {len(data['runs'])}: "
            f"{_each(r['cpu_per_request'] * 1000 for r in data['runs'])} ms; 1-min load {load:.1f}; baseline: the "
            f"openai SDK in a pool of {CONCURRENCY} threads)", f"{cpu * 1000:.2f} ms", f"{data['threaded_cpu'] * 1000:.2f} ms",
            cpu / data["threaded_cpu"], "≤ 1.5 ms", cpu <= 0.0015),
        Row(f"`map()` wall time, {what} (median of {len(data['runs'])}; baseline: the same requests from bare aiohttp on "
            f"one event loop, interleaved with ours: the floor the emulator and the machine allow, ideal x "
            f"{data['floor'] / ideal:.3f} in this run)", seconds(ours), seconds(data["floor"]), ours / data["floor"], "–",
            None),
        Row(f"`map()` wall time, {what} (baseline: the openai SDK in a pool of {CONCURRENCY} threads, no limiter)",
            seconds(ours), seconds(data["threaded"]), ours / data["threaded"], "–", None),
        Row(f"`map()` wall time, {what} (baseline: a sequential openai SDK loop over the rows)",
            seconds(ours), seconds(data["sequential"]), ours / data["sequential"], "–", None),
        Row(f"`map()` under an emulator ceiling of {CEILING} in flight (429 beyond), {what}: rows lost "
            f"(baseline column: the ideal time at {CEILING} in flight)",
            f"{lost} lost, {ceiling['answered']}/{n} answered in {seconds(ceiling['seconds'])}, "
            f"{ceiling['throttled']} 429s", seconds(ceiling_ideal), ceiling["seconds"] / ceiling_ideal,
            "finishes, 0 rows lost", lost == 0 and ceiling["failed"] == 0),
        Row(f"`map()` recording to a cassette, {n} rows, no emulator latency, concurrency {CONCURRENCY} (median of "
            f"{len(data['runs'])}; the file grows by {n} exchanges a run; baseline: the same batch not recorded)",
            seconds(data["recorded"]), seconds(data["plain"]), data["recorded"] / data["plain"], "≤ 1.3x",
            data["recorded"] / data["plain"] <= 1.3),
    ]


def _each(values, digits: int = 2) -> str:
    """Every run's figure, so a median on a goal's edge shows its spread."""
    return ", ".join(f"{v:.{digits}f}" for v in values)


def _ideal(rows: int, concurrency: int) -> float:
    """Each of ``concurrency`` slots sends its rows one after another: whole rounds of ``LATENCY``."""
    return math.ceil(rows / concurrency) * LATENCY


def notes(data: dict) -> list[str]:
    ceiling = data["ceiling"]
    return [f"`map()` under the ceiling: the limiter saw {ceiling['throttled']} 429s and shrank its concurrency "
            f"from {CONCURRENCY}; {ceiling['failed']} rows failed after retries."]
