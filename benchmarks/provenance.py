"""What the call log and the disk cache cost: ask() and map() with the log on vs off, the log's
size per 10,000 calls, and reading 100,000 cached vectors vs the same matrix from a .npy file.

Both sides of each ratio run in this process against the emulator, interleaved. With the
log off, the disk cache is off too (``cache="memory"``). So the map() row measures
everything that #16 writes on the hot path: a row in the log per request, and the
finished row on disk.
"""
from __future__ import annotations

import hashlib
import os
import resource
import tempfile
import time
from pathlib import Path

from ._harness import FAKE_KEY, MODEL, Context, interleave, median
from ._report import Row, seconds, size

FULL = dict(block=20, pairs=21, rows=500, repeats=3, vectors=100_000, dims=1024, reads=7)
QUICK = dict(block=4, pairs=2, rows=32, repeats=1, vectors=2_000, dims=64, reads=1)
MAP_SETTINGS = "latency=0.1; answer_tokens=20"
#: The short reply is the worst case (a 6 ms call, faster than any gateway's first token); the
#: long one is the 1,000-token reply of the client-overhead rows.
ASK_REPLIES = {"short": 40, "long": 1000}
SETTLE = 0.1  # seconds of quiet before each block of asks


def _switch(on: bool) -> None:
    import jupyter_llm

    jupyter_llm.session.log = on
    jupyter_llm.session.cache = "disk" if on else "memory"


def _asks(n: int, on: bool, run: int, tokens: int) -> tuple[float, float]:
    """Wall time of ``n`` consecutive asks, and the process's CPU time until their rows are written."""
    import jupyter_llm
    from jupyter_llm.core import call_log

    _switch(on)
    jupyter_llm.session.extra_headers = {"X-Emulator": f"answer_tokens={tokens}"}
    call_log.flush()  # the previous block's rows are written on its own time
    time.sleep(SETTLE)  # and both sides start from an idle writer and an idle emulator
    cpu, start = _cpu(), time.perf_counter()
    for i in range(n):
        jupyter_llm.ask(f"Question {i} of run {run} ({on}): name a river.", model=MODEL, think=False, display=False)
    wall = time.perf_counter() - start
    call_log.flush()
    return wall, _cpu() - cpu


def _alternating(run, pairs: int) -> dict[str, list]:
    """``pairs`` pairs of runs, log on and off, in the order on-off, off-on, on-off...: whatever
    favours the first (or second) of a pair favours each side as often. One warm-up pair."""
    results: dict[str, list] = {"on": [], "off": []}
    for number in range(pairs + 1):
        for on in (True, False) if number % 2 else (False, True):
            value = run(on)
            if number:
                results["on" if on else "off"].append(value)
    return results


def _cpu() -> float:
    """User + system time of this process, every thread (the log's writer too)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _paired(pairs: list[tuple[float, float]]) -> float:
    """The median of on/off ratios of neighbouring blocks: drift of the machine cancels within a pair."""
    return median([on / off for on, off in pairs])


def _map(n: int, on: bool, run: int) -> float:
    import jupyter_llm

    _switch(on)
    jupyter_llm.session.extra_headers = {"X-Emulator": MAP_SETTINGS}
    texts = [f"Review {i} of run {run} ({on}): it arrived on time." for i in range(n)]
    start = time.perf_counter()
    out = jupyter_llm.map(texts, "Classify: {text}", model=MODEL, think=False, concurrency=16, progress=False)
    assert out.notna().all()
    return time.perf_counter() - start


def _vectors(n: int, dims: int, reads: int) -> dict:
    import numpy as np

    from jupyter_llm.data import cache

    # The on/off runs before this one leave the session on either setting: "off" keeps vectors
    # in memory, which is not the disk store this row measures.
    _switch(True)
    rng = np.random.default_rng(0)
    matrix = rng.standard_normal((n, dims), dtype=np.float32)
    keys = [hashlib.sha256(f"text {i}".encode()).digest() for i in range(n)]
    # As embed() keeps them: a segment per request of 64 texts as it arrives, joined when it ends.
    names = [cache.put_vectors(keys[start:start + 64], matrix[start:start + 64]) for start in range(0, n, 64)]
    cache.join_vectors(names, keys, matrix)
    assert cache.stats()["disk_vectors"] >= n, "the vectors went to the disk store"
    npy = Path(tempfile.mkdtemp()) / "vectors.npy"
    np.save(npy, matrix)

    def from_cache():
        cpu, start = _cpu(), time.perf_counter()
        block, hit = cache.get_vectors(keys, dims)
        assert block.shape == (n, dims) and hit.all()
        return time.perf_counter() - start, _cpu() - cpu

    def from_npy():
        cpu, start = _cpu(), time.perf_counter()
        block = np.load(npy)
        assert block.shape == (n, dims)
        return time.perf_counter() - start, _cpu() - cpu

    times = interleave({"cache": from_cache, "npy": from_npy}, reads)
    npy.unlink()
    return {"cache": median(w for w, _ in times["cache"]), "npy": median(w for w, _ in times["npy"]), "n": n,
            "dims": dims, "runs": times}


def collect(ctx: Context) -> dict:
    import jupyter_llm
    from jupyter_llm.core import call_log

    sizes = QUICK if ctx.quick else FULL
    session = jupyter_llm.session
    session.base_url, session.api_key, session.model = ctx.emulator.url, FAKE_KEY, MODEL
    session.max_concurrency = 16
    runs = iter(range(10_000))
    asks = {kind: _alternating(lambda on, tokens=tokens: _asks(sizes["block"], on, next(runs), tokens), sizes["pairs"])
            for kind, tokens in ASK_REPLIES.items()}
    maps = interleave({"on": lambda: _map(sizes["rows"], True, next(runs)),
                       "off": lambda: _map(sizes["rows"], False, next(runs))}, sizes["repeats"])
    call_log.flush()
    calls = len(call_log.query())
    data = {"asks": asks, "maps": maps, "sizes": sizes, "calls": calls, "log_bytes": call_log.size(),
            "vectors": _vectors(sizes["vectors"], sizes["dims"], sizes["reads"]), "load": os.getloadavg()[0]}
    session.extra_headers, session.log, session.cache = {}, True, "disk"
    return data


def rows(data: dict) -> list[Row]:
    sizes = data["sizes"]
    block, pairs = sizes["block"], sizes["pairs"]
    map_on, map_off = median(data["maps"]["on"]), median(data["maps"]["off"])
    per_10k = data["log_bytes"] / max(1, data["calls"]) * 10_000
    v = data["vectors"]
    asks = []
    for kind, tokens in ASK_REPLIES.items():
        walls = list(zip([w for w, _ in data["asks"][kind]["on"]], [w for w, _ in data["asks"][kind]["off"]]))
        ask_on, ask_off = median(on for on, _ in walls) / block, median(off for _, off in walls) / block
        ratio = _paired(walls)
        asks.append(Row(
            f"`ask()` with the call log on, wall time a call (baseline: log off; {pairs} interleaved pairs of "
            f"{block} calls, {tokens:,}-token replies; ratio: median of the pairs' ratios)", seconds(ask_on),
            seconds(ask_off), ratio, "≤ 1.02x", ratio <= 1.02))
    return asks + [
        Row(f"`map()` of {sizes['rows']} rows (100 ms, 16 at a time), call log and disk cache on (baseline: both "
            f"off)", seconds(map_on), seconds(map_off), map_on / map_off, "≤ 1.05x", map_on / map_off <= 1.05),
        Row(f"Call log size per 10,000 calls (from {data['calls']:,} logged calls, prompts and replies kept)",
            size(per_10k), "–", None, "–", None),
        Row(f"Reading {v['n']:,} cached {v['dims']}-dim vectors from the disk cache (baseline: the same matrix "
            f"from a .npy file)", seconds(v["cache"]), seconds(v["npy"]), v["cache"] / v["npy"], "≤ 1.5x",
            v["cache"] / v["npy"] <= 1.5),
    ]


def notes(data: dict) -> list[str]:
    block = data["sizes"]["block"]
    cpu_notes = []
    for kind, tokens in ASK_REPLIES.items():
        cpus = list(zip([c for _, c in data["asks"][kind]["on"]], [c for _, c in data["asks"][kind]["off"]]))
        cpu_notes.append(
            f"`ask()` with the log on, {tokens:,}-token replies: this process's CPU time (every thread, until the "
            f"block's rows are written) {median(on for on, _ in cpus) / block * 1e3:.2f} ms a call vs "
            f"{median(off for _, off in cpus) / block * 1e3:.2f} ms with it off (median ratio of pairs "
            f"{_paired(cpus):.3g}x)")
    return [f"Call log: {data['calls']:,} calls took {size(data['log_bytes'])} on disk (with the full-text index).",
            *cpu_notes, f"Call log rows: 1-min load {data['load']:.1f} at the end.",
            f"Cached vectors: the read is one `readinto` per run of rows into a page-aligned matrix; runs, wall / "
            f"CPU (ms): cache {_runs(data['vectors']['runs']['cache'])}; .npy {_runs(data['vectors']['runs']['npy'])}; "
            f"median CPU ratio {_cpu_ratio(data['vectors']['runs']):.3g}x."]


def _runs(runs: list[tuple[float, float]]) -> str:
    return ", ".join(f"{wall * 1e3:.0f}/{cpu * 1e3:.0f}" for wall, cpu in runs)


def _cpu_ratio(runs: dict) -> float:
    return median(c for _, c in runs["cache"]) / median(c for _, c in runs["npy"])
