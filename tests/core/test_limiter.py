"""The session limiter: slots, requests and tokens per minute, and shrinking on 429."""
from __future__ import annotations

import threading

from jupyter_llm.core.limiter import Limiter, estimate_tokens


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def blocked(limiter: Limiter, tokens: int = 0) -> threading.Thread:
    """Start a thread that takes a slot (and releases it); it is still alive while it waits."""
    def take():
        with limiter.slot(tokens):
            pass

    thread = threading.Thread(target=take, daemon=True)
    thread.start()
    thread.join(0.3)
    return thread


def hold(limiter: Limiter, n: int):
    """Hold ``n`` slots from ``n`` threads; returns a function that lets them go."""
    go, ready = threading.Event(), threading.Barrier(n + 1)

    def take():
        with limiter.slot():
            ready.wait()
            go.wait()

    threads = [threading.Thread(target=take, daemon=True) for _ in range(n)]
    for t in threads:
        t.start()
    ready.wait(5)

    def release():
        go.set()
        for t in threads:
            t.join(5)

    return release


def test_concurrency_bounds_slots_held_at_once():
    limiter = Limiter(lambda: (2, None, None))
    first, second = limiter.slot(), limiter.slot()
    done = threading.Event()
    first.__enter__()
    threading.Thread(target=lambda: (second.__enter__(), done.set())).start()
    assert done.wait(2) and limiter.active == 2
    waiting = blocked(limiter)
    assert waiting.is_alive(), "a third slot waits while two are held"
    first.__exit__(None, None, None)
    waiting.join(2)
    assert not waiting.is_alive()


def test_nested_slots_in_one_thread_hold_one():
    limiter = Limiter(lambda: (1, None, None))
    with limiter.slot():
        with limiter.slot():
            assert limiter.active == 1
    assert limiter.active == 0


def test_requests_per_minute_wait_for_the_window_to_move():
    clock = Clock()
    limiter = Limiter(lambda: (None, 2, None), clock=clock)
    for _ in range(2):
        with limiter.slot():
            pass
    waiting = blocked(limiter)
    assert waiting.is_alive(), "the third request of the minute waits"
    clock.now += 61
    waiting.join(3)
    assert not waiting.is_alive()


def test_tokens_per_minute_count_estimates_and_replies():
    clock = Clock()
    limiter = Limiter(lambda: (None, None, 1000), clock=clock)
    with limiter.slot(tokens=600):
        pass
    limiter.add_tokens(300)
    waiting = blocked(limiter, tokens=200)
    assert waiting.is_alive(), "600 + 300 + 200 tokens would pass 1,000 a minute"
    clock.now += 61
    waiting.join(3)
    assert not waiting.is_alive()


def test_a_429_halves_the_slots_pauses_others_and_successes_win_them_back():
    clock = Clock()
    limiter = Limiter(lambda: (8, None, None), clock=clock)
    release = hold(limiter, 8)
    waits = []
    limiter.backoff(2.0, waits.append, rate_limited=True)
    assert waits == [2.0] and limiter.throttled == 1 and limiter.cap == 4
    limiter.backoff(2.0, waits.append, rate_limited=True)
    assert limiter.cap == 4, "one cut per back-off window, not one per 429 of the same burst"
    release()  # eight successes: four win back a fifth slot, four more are on the way to a sixth
    assert limiter.cap == 5
    with limiter.slot():
        pass
    assert limiter.cap == 6


def test_the_shrinkage_ends_after_a_quiet_spell():
    clock = Clock()
    limiter = Limiter(lambda: (8, None, None), clock=clock)
    with limiter.slot():
        limiter.backoff(0.1, lambda s: None, rate_limited=True)
        assert limiter.cap == 1
    clock.now += 10
    with limiter.slot():
        assert limiter.cap is None


def test_estimate_counts_message_text_and_max_tokens():
    from jupyter_llm.core.tokens import MESSAGE_OVERHEAD

    body = {"messages": [{"role": "user", "content": "x" * 400},
                         {"role": "user", "content": [{"type": "text", "text": "y" * 40}]}], "max_tokens": 50}
    assert estimate_tokens(body) == 110 + 2 * MESSAGE_OVERHEAD + 50
    # Chinese costs about a token a character, not a quarter: tokens_per_minute must know it.
    assert estimate_tokens({"messages": [{"role": "user", "content": "数据" * 200}]}) >= 400


def test_the_refused_level_is_not_probed_again_until_a_quiet_spell():
    clock = Clock()
    limiter = Limiter(lambda: (16, None, None), clock=clock)
    release = hold(limiter, 6)
    limiter.backoff(0.1, lambda s: None, rate_limited=True)
    release()  # halved to 3, and the six successes of the releases win one back
    assert limiter.cap == 4
    for _ in range(40):
        with limiter.slot():
            pass
    assert limiter.cap == 5, "grows back to one below the refused 6, and stays there"
    busy = hold(limiter, 1)  # still working, so this is not the idle reset
    clock.now += 31
    for _ in range(5):
        with limiter.slot():
            pass
    assert limiter.cap == 6
    busy()


def test_near_a_level_refused_before_a_429_steps_just_under_it():
    clock = Clock()
    limiter = Limiter(lambda: (16, None, None), clock=clock)
    release = hold(limiter, 8)
    limiter.backoff(0.1, lambda s: None, rate_limited=True)
    release()
    for _ in range(30):
        with limiter.slot():
            pass
    assert limiter.cap == 7  # back to one under the refused 8
    clock.now += 1
    release = hold(limiter, 7)
    limiter.backoff(0.1, lambda s: None, rate_limited=True)
    assert limiter.cap == 6, "8 was refused, now 7: the ceiling is about here, no need to halve"
    release()


def test_the_session_limit_bounds_embeddings_and_asks_from_threads_too(llm, emulator):
    """Every request goes through one limiter: with one slot, a ceiling of one is never exceeded."""
    from concurrent.futures import ThreadPoolExecutor

    import jupyter_llm
    from jupyter_llm.core import limiter

    llm.max_concurrency, llm.max_retries = 1, 0  # a single 429 would raise
    llm.extra_headers = {"X-Emulator": "latency=0.05; max_concurrency=1"}
    frame = jupyter_llm.embed([f"text {i}" for i in range(8)], batch_size=2, concurrency=4)
    with ThreadPoolExecutor(4) as pool:
        replies = list(pool.map(lambda i: jupyter_llm.ask(f"q {i}", model="qwen3-32b", think=False, display=False),
                                range(6)))
    assert len(frame) == 8 and all(r.complete for r in replies) and limiter.shared().throttled == 0


def test_a_slot_closed_from_another_thread_is_given_back():
    limiter = Limiter(lambda: (1, None, None))

    def stream():
        with limiter.slot():
            yield "chunk"

    chunks = stream()
    next(chunks)
    closer = threading.Thread(target=chunks.close)
    closer.start()
    closer.join(2)
    assert limiter.active == 0
    waiting = blocked(limiter)
    waiting.join(2)
    assert not waiting.is_alive()


def test_coroutines_and_threads_share_one_bound_and_a_release_wakes_a_coroutine_at_once():
    import asyncio
    import time

    limiter = Limiter(lambda: (2, None, None))
    release = hold(limiter, 1)   # one slot held by a thread

    async def batch():
        async with limiter.aslot():
            assert limiter.active == 2
            waiting = asyncio.get_running_loop().create_task(take_after_wait())
            await asyncio.sleep(0.2)
            assert not waiting.done(), "a third slot waits while a thread and a coroutine hold two"
            released = time.perf_counter()
        return released, await waiting

    async def take_after_wait():
        async with limiter.aslot():
            return time.perf_counter()

    released, taken = asyncio.run(batch())
    release()
    assert taken - released < 0.1, "the release woke the waiting coroutine, not the 0.5 s re-check"
    assert limiter.active == 0


def test_an_async_backoff_on_429_halves_the_slots_and_pauses_new_coroutines():
    import asyncio

    clock = Clock()
    limiter = Limiter(lambda: (8, None, None), clock=clock)

    async def scenario():
        for _ in range(6):
            await limiter.acquire()
        slept = []

        async def sleep(seconds):
            slept.append(seconds)

        await limiter.abackoff(2.0, sleep, rate_limited=True)
        return slept

    assert asyncio.run(scenario()) == [2.0]
    assert limiter.cap == 3 and limiter.throttled == 1, "halved from the 6 in flight"
    for _ in range(6):
        limiter.release(False)
    assert limiter.active == 0
