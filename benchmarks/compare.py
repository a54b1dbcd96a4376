"""The compare panel: four models at once, a coroutine each on the batch loop vs a thread each.

Both sides run in this process against the emulator process: four models answer the same
prompt at full speed, and their events are taken as the panel takes them, batch by batch
on an asyncio loop (counted, with no widgets: the transport and the stream assembly are
what is measured). Ours is the panel's path, ``core.background.BackgroundChat``. The
baseline is what the panel did before: a worker thread per model running the sync chat
path (``core.chat.send``, the openai SDK), its events handed to the loop the same way.
Client CPU is this process's ``getrusage`` (user and system, every thread) around each
compare; the sides alternate, and the threads each side starts are counted while it runs.
"""
from __future__ import annotations

import asyncio
import os
import resource
import threading
import time

from ._harness import FAKE_KEY, interleave, median
from ._report import Row, seconds

MODELS = ["qwen3-32b", "qwq-32b", "qwen72b-int8", "qwen3-30b-a3b"]
FULL = dict(answer=3000, reasoning=200, repeats=7)
QUICK = dict(answer=200, reasoning=20, repeats=1)
MESSAGES = [{"role": "user", "content": "Write an essay about the tides."}]


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _threaded(model: str, on_events) -> asyncio.Future:
    """The panel's old way for one model: the sync chat path in a thread, its events batched onto the loop."""
    from jupyter_llm.core.chat import send

    loop = asyncio.get_running_loop()
    done = loop.create_future()
    pending: list = []
    lock = threading.Lock()

    def drain() -> None:
        with lock:
            events = pending[:]
            pending.clear()
        if events:
            on_events(events)

    def forward(event) -> None:
        with lock:
            pending.append(event)
            first = len(pending) == 1
        if first:
            loop.call_soon_threadsafe(drain)

    def work() -> None:
        reply = send(MESSAGES, on_event=forward, model=model)
        loop.call_soon_threadsafe(lambda: (drain(), done.set_result(reply)))

    threading.Thread(target=work, daemon=True).start()
    return done


def _run(side: str) -> dict:
    from jupyter_llm.core.background import BackgroundChat

    counted = [0]

    def on_events(events) -> None:
        counted[0] += len(events)

    async def main():
        if side == "ours":
            waits = [BackgroundChat(MESSAGES, on_events=on_events, model=m).run() for m in MODELS]
        else:
            waits = [_threaded(m, on_events) for m in MODELS]
        gathered = asyncio.gather(*waits)
        peak = threading.active_count()
        while not gathered.done():
            peak = max(peak, threading.active_count())
            await asyncio.sleep(0.005)
        return gathered.result(), peak

    threads = threading.active_count()
    cpu, start = _cpu(), time.perf_counter()
    replies, peak = asyncio.run(main())
    elapsed, cpu = time.perf_counter() - start, _cpu() - cpu
    assert all(r.complete for r in replies) and counted[0] > 0
    return {"cpu": cpu, "seconds": elapsed, "threads": peak - threads, "load": os.getloadavg()[0],
            "tokens": sum(r.usage.completion_tokens for r in replies)}


def collect(ctx) -> dict:
    import jupyter_llm
    from jupyter_llm.core import event_loop

    sizes = QUICK if ctx.quick else FULL
    session = jupyter_llm.session
    session.base_url, session.api_key = ctx.emulator.url, FAKE_KEY
    session.extra_headers = {"X-Emulator": f"answer_tokens={sizes['answer']}; reasoning_tokens={sizes['reasoning']}"}
    log = session.log
    session.log = False  # the call log costs both sides the same; it is measured on its own
    event_loop.loop()  # started once per process, by map() as much as by a panel
    try:
        runs = interleave({"ours": lambda: _run("ours"), "baseline": lambda: _run("baseline")}, sizes["repeats"])
    finally:
        session.log, session.extra_headers = log, {}
    return {"sizes": sizes, **runs}


def rows(data: dict) -> list[Row]:
    ours, base = data["ours"], data["baseline"]
    sizes = data["sizes"]
    load = median([r["load"] for r in ours + base])
    what = (f"{len(MODELS)} models at once, {sizes['reasoning']} + {sizes['answer']:,} tokens each at full speed "
            f"(median of {len(ours)}, 1-min load {load:.1f}; baseline: a thread per model on the sync path, "
            f"as the panel ran before)")
    cpu, base_cpu = median([r["cpu"] for r in ours]), median([r["cpu"] for r in base])
    wall, base_wall = median([r["seconds"] for r in ours]), median([r["seconds"] for r in base])
    threads, base_threads = max(r["threads"] for r in ours), max(r["threads"] for r in base)
    return [
        Row(f"Compare panel client CPU, {what}", seconds(cpu), seconds(base_cpu), cpu / base_cpu, "≤ 1x",
            cpu <= base_cpu),
        Row(f"Compare panel wall time, {what}", seconds(wall), seconds(base_wall), wall / base_wall, "–", None),
        Row(f"Compare panel threads started while it streams, {len(MODELS)} models (baseline as above)",
            str(threads), str(base_threads), None, "0", threads == 0),
    ]


def notes(data: dict) -> list[str]:
    return []
