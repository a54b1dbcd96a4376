"""Streaming as the browser sees it: a ``%%llm`` cell in JupyterLab (and Notebook 7) in headless Chromium.

Two numbers per run, both taken in the page:

- from the last token to the final DOM: the emulator logs the wall-clock time at which it
  wrote the reply's last token; the page notes ``Date.now()`` when a MutationObserver
  first sees the cell's live widget gone and the answer's last words rendered. Both read
  the same system clock on this machine, so the difference is what a user waits for: the
  kernel, the server, the websocket and the browser's rendering, all included;
- the main thread's long tasks (over 50 ms), from a PerformanceObserver installed before
  the cell runs, until the final DOM.

Baseline: the same reply read by the openai SDK and displayed once, at its end, as plain
Markdown. That is the least any display of this answer costs the browser, so the ratio
says what the live view adds on top. (The usual approach of re-displaying the whole text
per token cannot be shown at this speed: see ``METHOD``.)
"""
from __future__ import annotations

import json
import os
import re
import sys
import urllib.request
from dataclasses import dataclass, field

from . import _cells
from ._harness import FAKE_KEY, ROOT, Context, emulator_header, median
from ._report import Row, seconds

sys.path.insert(0, str(ROOT / "tools"))
from lab import Lab, chromium, launch  # noqa: E402
from lab_page import cells, open_notebook, run_cell, shown_words, words, write_notebook  # noqa: E402

FULL = dict(reasoning=4000, answer=20000, pace=2000, rounds=3, notebook7=True)
QUICK = dict(reasoning=100, answer=500, pace=2000, rounds=1, notebook7=False)
#: Where the screenshots of one streamed cell go (the results name them).
SHOTS = ROOT / "artifacts" / "bench"
#: Longest wait for one cell, start to final DOM (a 24k-token reply at 2,000 tok/s takes 12 s).
_TIMEOUT_MS = 180_000
#: Long tasks this long after the final DOM still count: Lab reacts to a new output after showing it
#: (its React parts, code highlighting), and a user feels that freeze as part of the reply's end.
_SETTLE_MS = 1000
#: How many of the answer's last words mark it as rendered.
_TAIL = 8

ONCE_CELL = """_result = quiet_stream({headers!r})
display(HTML("<details><summary>Reasoning</summary><pre style='white-space: pre-wrap'>"
             + html.escape(_result["reasoning"]) + "</pre></details>"))
display(Markdown(_result["content"]))"""

# Installed before the cell runs. The final DOM: the cell's outputs were cleared, no live
# widget is left, and a rendered Markdown output ends with the answer's last words.
ARM = """([index, tail, live]) => {
  const panel = [...document.querySelectorAll('.jp-NotebookPanel')].find(p => !p.classList.contains('lm-mod-hidden'));
  const cell = panel.querySelectorAll('.jp-Cell')[index];
  const probe = window.__jllmProbe = {longtasks: [], cleared: false, sawLive: !live, settled: null, final: null,
                                      finalPerf: null, settledPerf: null,
                                      armed: performance.mark('jllm-armed').startTime, origin: performance.timeOrigin};
  const tasks = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) probe.longtasks.push([e.startTime, e.duration]);
  });
  tasks.observe({type: 'longtask'});
  const words = (text) => text.match(/[\\p{L}\\p{N}_]+/gu) || [];
  const wanted = tail.join(' ');
  const check = () => {
    if (!probe.cleared) {
      if (cell.querySelector('.jp-OutputArea-output')) return;
      probe.cleared = true;
    }
    if (cell.querySelector('.jllm-live')) {
      probe.sawLive = true;
      return;
    }
    if (!probe.sawLive || !cell.querySelector('.jp-OutputArea-output')) return;
    if (probe.settled === null) {
      probe.settled = Date.now();
      probe.settledPerf = performance.now();
    }
    // A long answer comes as several Markdown outputs: the last one ends with its last words.
    const parts = [...cell.querySelectorAll('.jp-OutputArea-output.jp-RenderedMarkdown')];
    for (const md of parts) {
      if (words(md.textContent.slice(-600)).slice(-tail.length).join(' ') === wanted) {
        probe.final = Date.now();
        probe.finalPerf = performance.now();
        probe.answer = parts.map(part => part.textContent).join(' ');
        dom.disconnect();
        return;
      }
    }
  };
  const dom = new MutationObserver(check);
  dom.observe(cell, {childList: true, subtree: true, characterData: true});
  probe.stop = () => { tasks.disconnect(); dom.disconnect(); };
  check();
}"""
COLLECT = """() => { const p = window.__jllmProbe; p.stop(); const {stop, ...rest} = p; return rest; }"""


@dataclass
class Run:
    to_final: float  # seconds from the last token written to the final DOM
    to_settled: float  # seconds from the last token to the live view gone (ours) or the first final output (once)
    longest: float  # seconds, the longest long task from the first token to 1 s after the final DOM (0: none)
    count: int  # long tasks (> 50 ms) in that time
    whole: bool  # the final DOM holds the whole answer, every word in order
    load: float  # 1-minute load average as the run ended
    tasks: list[tuple[float, float]]  # (start after the last token, duration), seconds
    before: list[float]  # durations of the long tasks between Run and the first token, seconds
    window: tuple[float, float, float]  # performance.now() of the probe's start, the first token, the window's end
    cpu: list[float] = field(default_factory=list)  # traced runs: CPU seconds of each of those long tasks


class _Notebook:
    """One notebook open in its own page: its setup cell run, its measured cell next."""

    def __init__(self, browser, server: Lab, name: str, setup: str, cell: str):
        self.context = browser.new_context(viewport={"width": 1280, "height": 1000})
        self.page = self.context.new_page()
        self.page.set_default_timeout(60_000)
        write_notebook(server.root, name, setup, cell)
        open_notebook(self.page, server, name)
        run_cell(self.page, 0)
        cells(self.page).first.locator(".jp-InputPrompt").filter(has_text="[1]").wait_for(timeout=120_000)

    def close(self) -> None:
        self.context.close()


def collect(ctx: Context) -> dict:
    """Interleaved runs of ``%%llm`` and the display-once baseline in JupyterLab; one in Notebook 7."""
    if chromium() is None:
        return {"skipped": "no Chromium on this machine (apt-get install chromium, or set $CHROMIUM)"}
    from playwright.sync_api import sync_playwright  # heavy: only when the browser benchmark runs

    sizes = QUICK if ctx.quick else FULL
    headers = emulator_header(sizes["answer"], sizes["reasoning"], sizes["pace"])
    root = ctx.tmp / "browser"
    root.mkdir(exist_ok=True)
    ours_setup = _cells.OURS_SETUP + _cells.ours_headers(headers)
    once_setup = _cells.BASELINE_SETUP + "from IPython.display import HTML\n"
    once_cell = ONCE_CELL.format(headers=headers)
    runs: dict[str, list[Run]] = {"ours": [], "once": [], "notebook7": []}
    with sync_playwright() as p:
        browser = launch(p)
        try:
            with Lab(root, ctx.kernel_env) as lab:
                books = {"ours": _Notebook(browser, lab, "ours.ipynb", ours_setup, _cells.OURS_CELL),
                         "once": _Notebook(browser, lab, "once.ipynb", once_setup, once_cell)}
                tails = {}
                for approach, book in books.items():  # warm-up: the widget's module, the first Markdown
                    tails[approach] = _warm_up(ctx, book, shots=approach == "ours" and not ctx.quick)
                for _ in range(sizes["rounds"]):
                    for approach, book in books.items():
                        runs[approach].append(_measure(ctx, book, tails[approach], live=approach == "ours"))
                for approach, book in books.items():
                    runs[f"{approach}_traced"] = [_traced(ctx, browser, book, tails[approach], live=approach == "ours")]
                for book in books.values():
                    book.close()
            if sizes["notebook7"]:
                with Lab(root, ctx.kernel_env, app="notebook") as server:
                    book = _Notebook(browser, server, "ours7.ipynb", ours_setup, _cells.OURS_CELL)
                    tail = _warm_up(ctx, book, shots=False)
                    runs["notebook7"].append(_measure(ctx, book, tail, live=True))
                    book.close()
        finally:
            browser.close()
    return {"runs": runs, "sizes": sizes}


def _warm_up(ctx: Context, book: _Notebook, *, shots: bool) -> list[str]:
    """Run the cell once, unmeasured; return the last words of its answer, read from the emulator."""
    page = book.page
    run_cell(page, 1)
    if shots:
        page.wait_for_function("() => (document.querySelector('.jllm-live') || {innerText: ''}).innerText.length"
                               " > 2000",
                               timeout=_TIMEOUT_MS, polling=100)
        _shoot(page, cells(page).nth(1).locator(".jp-InputArea"), "browser-streaming.png")
    cells(page).nth(1).locator(".jp-InputPrompt").filter(has_text=re.compile(r"\[\d+\]")).wait_for(
        timeout=_TIMEOUT_MS)
    page.wait_for_function("() => !document.querySelector('.jllm-live')", timeout=_TIMEOUT_MS)
    if shots:
        page.wait_for_timeout(500)
        _shoot(page, cells(page).nth(1).locator(".jp-InputArea"), "browser-final-top.png")
        _shoot(page, cells(page).nth(1).locator(".jp-OutputArea-output").last, "browser-final.png")
    answer = _answer_of(ctx, _last_chat(ctx))
    return shown_words(answer)[-_TAIL:]


def _measure(ctx: Context, book: _Notebook, tail: list[str], *, live: bool) -> Run:
    """One measured run of the notebook's cell; ``live``: it streams into the live widget."""
    page = book.page
    page.evaluate(ARM, [1, tail, live])
    run_cell(page, 1)
    page.wait_for_function("() => window.__jllmProbe.final !== null", timeout=_TIMEOUT_MS, polling=200)
    page.wait_for_timeout(_SETTLE_MS + 300)  # and a long task is reported once it has ended
    probe = page.evaluate(COLLECT)
    entry = _last_chat(ctx)
    written = entry["tokens_written"]
    first_perf, last_perf = (written[end] * 1000 - probe["origin"] for end in ("first", "last"))
    # From the first token on: before it, Lab clears the cell's previous outputs (its own cost, the same
    # for any reply) and Run's click lays out the notebook; both are counted apart.
    tasks = [(start, duration) for start, duration in probe["longtasks"]
             if start + duration >= first_perf and start <= probe["finalPerf"] + _SETTLE_MS]
    before = [duration for start, duration in probe["longtasks"] if start + duration < first_perf]
    expected = " ".join(shown_words(_answer_of(ctx, entry)))
    return Run(
        to_final=probe["final"] / 1000 - written["last"],
        to_settled=probe["settled"] / 1000 - written["last"],
        tasks=[((start - last_perf) / 1000, duration / 1000) for start, duration in tasks],
        before=[duration / 1000 for duration in before],
        window=(probe["armed"], first_perf, probe["finalPerf"] + _SETTLE_MS),
        longest=max((d for _, d in tasks), default=0) / 1000, count=len(tasks),
        whole=expected in " ".join(words(probe["answer"])), load=os.getloadavg()[0],
    )


def _traced(ctx: Context, browser, book: _Notebook, tail: list[str], *, live: bool) -> Run:
    """One more run under Chromium's tracing, which gives each long task's CPU time as well as its wall time.

    Wall time counts the moments the machine ran something else; CPU time does not, so it
    says what the page itself costs on a busy machine.
    """
    # RunTask, the main thread's tasks with their CPU time, is in the "disabled-by-default" category.
    browser.start_tracing(page=book.page, categories=["devtools.timeline", "disabled-by-default-devtools.timeline",
                                                      "blink.user_timing"])
    try:
        run = _measure(ctx, book, tail, live=live)
    finally:
        trace = json.loads(browser.stop_tracing())
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    # The page's mark, made on its main thread, puts the trace's clock (µs) beside performance.now() (ms).
    mark = next(e for e in events if e.get("name") == "jllm-armed")
    offset = mark["ts"] / 1000 - run.window[0]
    # The same tasks as the long-task entries: over 50 ms of wall time, on the page's main thread, in the window.
    run.cpu = sorted(e.get("tdur", 0) / 1e6 for e in events
                     if e.get("name") == "RunTask" and e.get("ph") == "X" and e.get("dur", 0) > 50_000
                     and (e["pid"], e["tid"]) == (mark["pid"], mark["tid"])
                     and run.window[1] <= e["ts"] / 1000 - offset + e["dur"] / 1000
                     and e["ts"] / 1000 - offset <= run.window[2])
    return run


def _last_chat(ctx: Context) -> dict:
    with urllib.request.urlopen(ctx.emulator.url.removesuffix("/v1") + "/emulator/requests", timeout=30) as answer:
        log = json.load(answer)
    return next(e for e in reversed(log) if e["path"].endswith("/chat/completions") and "tokens_written" in e)


def _answer_of(ctx: Context, entry: dict) -> str:
    """The answer the emulator streamed for ``entry``, asked again unpaced and whole.

    The emulator's reply is a function of the model, the messages, the temperature and its
    settings, so the same request gives the same text.
    """
    body = {k: v for k, v in entry["body"].items() if k not in ("stream", "stream_options")}
    settings = re.sub(r"rate=[\d.]+", "rate=0", entry["headers"]["x-emulator"])
    request = urllib.request.Request(
        ctx.emulator.url + "/chat/completions", data=json.dumps(body).encode(), method="POST",
        headers={"Authorization": f"Bearer {FAKE_KEY}", "Content-Type": "application/json", "X-Emulator": settings})
    with urllib.request.urlopen(request, timeout=60) as answer:
        return json.load(answer)["choices"][0]["message"]["content"]


def _shoot(page, locator, name: str) -> None:
    """The window with ``locator`` in view: the cell is taller than any window once the reply is long."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    locator.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / name))


def rows(data: dict) -> list[Row]:
    if "skipped" in data:
        return []
    sizes, runs = data["sizes"], data["runs"]
    where = f"{sizes['reasoning']:,}+{sizes['answer']:,} tokens, {sizes['pace']:,} tok/s"
    ours, once = runs["ours"], runs["once"]
    load = median([r.load for r in ours + once])
    n = len(ours)
    out = []
    mine, theirs = median([r.to_final for r in ours]), median([r.to_final for r in once])
    out.append(Row(
        f"Browser, JupyterLab: last token to final DOM, median of {n} ({where}; load {load:.1f})",
        seconds(mine), f"{seconds(theirs)} (displayed once)", mine / theirs if theirs > 0 and mine > 0 else None,
        "≤ 0.5 s", mine <= 0.5))
    mine = median([r.to_final - r.to_settled for r in ours])
    theirs = median([r.to_final - r.to_settled for r in once])
    out.append(Row(
        f"Browser, JupyterLab: of that, the front end's part: live view gone (baseline: first final output) to final "
        f"DOM, median of {n} ({where}; load {load:.1f})",
        seconds(mine), f"{seconds(theirs)} (displayed once)", mine / theirs if theirs > 0 and mine > 0 else None,
        "–", None))
    mine, theirs = max(r.longest for r in ours), max(r.longest for r in once)
    counts = ", ".join(str(r.count) for r in ours)
    out.append(Row(
        f"Browser, JupyterLab: longest main-thread task (wall time) from the first token to 1 s after the final DOM, "
        f"worst of {n}; long tasks (> 50 ms) per run: {counts} ({where}; load {load:.1f})",
        seconds(mine), f"{seconds(theirs)} (displayed once)", mine / theirs if theirs > 0 and mine > 0 else None,
        "none over 100 ms", mine <= 0.1))
    mine, theirs = max(_streaming(r) for r in ours), max(_streaming(r) for r in once)
    out.append(Row(
        f"Browser, JupyterLab: longest main-thread task (wall time) from the first token to the final DOM, while the "
        f"reply is shown, worst of {n} ({where}; load {load:.1f})",
        seconds(mine), f"{seconds(theirs)} (displayed once)", mine / theirs if theirs > 0 and mine > 0 else None,
        "– (the row above holds the goal)", None))
    traced = {approach: runs[f"{approach}_traced"][0] for approach in ("ours", "once")}
    mine, theirs = (max(traced[a].cpu, default=0) for a in ("ours", "once"))
    # Long tasks the page reported but the trace did not hold: no CPU time to show.
    lost = [a for a in ("ours", "once") if traced[a].tasks and not traced[a].cpu]
    out.append(Row(
        f"Browser, JupyterLab: longest long task in CPU time (Chromium's trace), same window, one traced run each "
        f"({where}; load {median([r.load for r in traced.values()]):.1f})",
        "not in the trace" if "ours" in lost else seconds(mine),
        f"{'not in the trace' if 'once' in lost else seconds(theirs)} (displayed once)",
        mine / theirs if theirs > 0 and mine > 0 and not lost else None, "none over 100 ms",
        None if "ours" in lost else mine <= 0.1))
    held = sum(r.whole for r in ours)
    out.append(Row(f"Browser, JupyterLab: final DOM holds the whole answer ({where})", f"{held}/{n} runs",
                   f"{sum(r.whole for r in once)}/{len(once)} runs", None, "all runs", held == n))
    for run in runs["notebook7"]:
        out.append(Row(
            f"Browser, Notebook 7: last token to final DOM; longest task, long tasks ({where}; one run, load "
            f"{run.load:.1f})", f"{seconds(run.to_final)}; {seconds(run.longest)}, {run.count}", "–", None,
            "≤ 0.5 s; none over 100 ms", run.to_final <= 0.5 and run.longest <= 0.1 and run.whole))
    return out


def _streaming(run: Run) -> float:
    """The longest long task of ``run`` that began before its final DOM (0: none)."""
    return max((duration for start, duration in run.tasks if start <= run.to_final), default=0)


def notes(data: dict) -> list[str]:
    if "skipped" in data:
        return [f"Browser timings skipped: {data['skipped']}"]
    out = []
    for approach, label in (("ours", "jupyter-llm"), ("once", "displayed once"), ("ours_traced", "jupyter-llm, traced"),
                            ("once_traced", "displayed once, traced"), ("notebook7", "Notebook 7")):
        for run in data["runs"][approach]:
            cpu = f" (CPU time: {', '.join(f'{c * 1000:.0f} ms' for c in run.cpu)})" if run.cpu else ""
            when = ", ".join(f"{duration * 1000:.0f} ms at {start:+.2f} s" for start, duration in run.tasks)
            out.append(f"Browser, {label}: last token to final DOM {seconds(run.to_final)}, of which "
                       f"{seconds(run.to_settled)} until the live view went (or the first final output came) and "
                       f"{seconds(run.to_final - run.to_settled)} to render the final outputs; {run.count} long "
                       f"tasks ({when or 'none'}; times from the last token){cpu}, and before the first token "
                       f"{', '.join(f'{d * 1000:.0f} ms' for d in run.before) or 'none'}; whole answer "
                       f"{'yes' if run.whole else 'NO'}; load {run.load:.1f}")
    out.append(f"Browser screenshots of the cell while it streams and after: {SHOTS.relative_to(ROOT)}/"
               "browser-streaming.png, browser-final-top.png, browser-final.png")
    return out


METHOD = (
    "Browser: JupyterLab (and Notebook 7) on loopback, the OS's Chromium headless through Playwright, one page per "
    "notebook, runs interleaved after one unmeasured warm-up each. \"Last token\" is the emulator's wall-clock time "
    "(`time.time()`, logged with the request) right after it wrote the reply's last token to the socket; \"final "
    "DOM\" is the page's `Date.now()` when a MutationObserver on the cell first finds no live widget and a rendered "
    "Markdown output ending with the answer's last words. Both clocks are this machine's system clock, so the "
    "difference spans the kernel, jupyter_server, the websocket and rendering; the whole answer is then checked "
    "word for word against the emulator's reply. Long tasks: a `PerformanceObserver` for `longtask` entries "
    "installed before the cell runs, counting the tasks from the first token (the emulator's log again) to 1 s "
    "after the final DOM (Lab still reacts to a new output then: a CPU profile puts the longest such task, about "
    "0.6 s after the last token, in its table of contents, which builds one sidebar entry per heading of the answer, "
    "about 2.6 ms each, even with the panel hidden; the baseline pays it alike). A second row keeps only the tasks "
    "that begin before the final DOM, while the reply is shown. Those between Run and the first token (Lab "
    "clearing the previous run's outputs) are listed in the notes. One more run of each side is traced "
    "(`devtools.timeline`) for the CPU time of the same tasks (`tdur` of the renderer's `RunTask` events), which a "
    "busy machine does not inflate. Baseline: the openai SDK reads the same reply and displays it once at the end "
    "(reasoning in `<details>`, answer as `Markdown`), the least any display of it costs the browser. The usual "
    "approach of re-displaying the whole text per token is not run here: at 2,000 tok/s it passes jupyter_server's "
    "iopub data limit (1 MB/s by default) within the first few hundred tokens, and the server then drops its "
    "updates, so its final DOM need not hold the answer at all."
)
