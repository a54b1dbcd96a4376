"""Client overhead: ``jupyter_llm.ask(display=False)`` vs the raw openai SDK streaming loop, and
what a token budget's count of each chunk adds to ``ask()``.

Both run in this process against the emulator, which runs in its own process so it
does not share our GIL. Reply: 1,000 tokens (200 reasoning + 800 answer) at full speed,
so what differs is the client's own work per chunk.
"""
from __future__ import annotations

import time

from ._cells import PROMPT
from ._harness import FAKE_KEY, MODEL, Context, emulator_header, interleave, median
from ._report import Row, seconds

FULL = dict(repeats=41)
QUICK = dict(repeats=5)
HEADERS = emulator_header(answer=800, reasoning=200, rate=0)


def _quiet_log() -> None:
    """Let the call log write the previous ask's row now: left to run on, its writer thread
    lands on whichever call comes next in the round, always the same one."""
    from jupyter_llm.core import call_log

    call_log.flush()


def _ours():
    import jupyter_llm

    _quiet_log()
    cpu, start = time.thread_time(), time.perf_counter()
    reply = jupyter_llm.ask(PROMPT, display=False)
    total = time.perf_counter() - start
    # reply.ttft counts from inside chat(); shift it to our start so both sides time the
    # same span (it can only come out late, by the few µs between finish() and return).
    return total - (reply.elapsed - reply.ttft), total, time.thread_time() - cpu


def _budgeted():
    import jupyter_llm

    # A budget no run reaches: every chunk is counted, none is stopped.
    jupyter_llm.session.budget_tokens = 10**12
    try:
        return _ours()
    finally:
        jupyter_llm.session.budget_tokens = None


def _baseline(client):
    def run():
        # What a notebook author writes: stream, keep the answer and the reasoning.
        _quiet_log()
        start = time.perf_counter()
        first = None
        answer, reasoning = [], []
        stream = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": PROMPT}],
            stream=True, stream_options={"include_usage": True},
        )
        for chunk in stream:
            for choice in chunk.choices:
                delta = choice.delta
                think = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
                if think:
                    reasoning.append(think)
                if delta.content:
                    answer.append(delta.content)
                if first is None and (think or delta.content):
                    first = time.perf_counter() - start
        _text = "".join(answer), "".join(reasoning)  # assembled, as ask() does
        return first, time.perf_counter() - start

    return run


def collect(ctx: Context) -> dict:
    import openai

    import jupyter_llm

    session = jupyter_llm.session
    session.base_url, session.api_key, session.model = ctx.emulator.url, FAKE_KEY, MODEL
    session.extra_headers = HEADERS
    client = openai.OpenAI(base_url=ctx.emulator.url, api_key=FAKE_KEY, max_retries=0, default_headers=HEADERS)
    repeats = (QUICK if ctx.quick else FULL)["repeats"]
    results = interleave({"ours": _ours, "baseline": _baseline(client), "budgeted": _budgeted}, repeats, warmup=2)
    return {name: {"ttft": [r[0] for r in runs], "total": [r[1] for r in runs],
                   "cpu": [r[2] for r in runs if len(r) > 2]} for name, runs in results.items()}


def rows(data: dict) -> list[Row]:
    out = []
    n = len(data["ours"]["total"])
    for key, label in (("ttft", "time to first token"), ("total", "total time")):
        ours, base = median(data["ours"][key]), median(data["baseline"][key])
        out.append(Row(
            f"`ask(display=False)`, {label} (1,000-token reply, median of {n}; baseline: raw openai SDK loop)",
            seconds(ours), seconds(base), ours / base, "≤ 1.05x", ours / base <= 1.05,
        ))
    if "budgeted" in data:
        budgeted, plain = median(data["budgeted"]["total"]), median(data["ours"]["total"])
        # Each round runs both one after the other: their ratio leaves out the machine's drift.
        ratio = median(b / p for b, p in zip(data["budgeted"]["total"], data["ours"]["total"]))
        out.append(Row(
            f"`ask(display=False)` with `budget_tokens` set, total time (1,000-token reply, {n} interleaved "
            f"rounds; ratio: median of the rounds' ratios; baseline: the same `ask()` with no budget)",
            seconds(budgeted), seconds(plain), ratio, "≤ 1.05x", ratio <= 1.05,
        ))
    return out


def notes(data: dict) -> list[str]:
    if not data.get("budgeted", {}).get("cpu"):
        return []
    budgeted, plain = data["budgeted"]["cpu"], data["ours"]["cpu"]
    return [f"`ask()` with a token budget: the calling thread's CPU time {median(budgeted) * 1e3:.1f} ms a call vs "
            f"{median(plain) * 1e3:.1f} ms without (median ratio of rounds "
            f"{median(b / p for b, p in zip(budgeted, plain)):.3g}x): wall time on a busy machine is mostly waiting."]
