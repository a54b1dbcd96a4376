"""The work of ``map()``: one prompt over every row of a DataFrame, Series or list, a few at a time.

Each row is one ordinary chat request through the core's chat path (thinking, catalogue
checks, retries and error translation as everywhere else). The rows are coroutines on the
process's batch loop (:mod:`jupyter_llm.core.event_loop`), ``concurrency`` of them at a time,
sent with the async transport: one thread for the whole batch, not one per request, so the
client's CPU per request does not queue for the GIL. The session limiter (:mod:`jupyter_llm.core.limiter`) bounds what is in flight,
so a batch and a ``%%llm`` cell share one budget, and a 429 slows the whole batch.

Finished rows are kept in the answer cache (:mod:`jupyter_llm.data.cache`), keyed by
everything that shapes the request (model, system prompt, thinking, schema, parameters,
the row's prompt). An interrupted or partly failed batch therefore resumes where it
stopped: re-running the cell, or the notebook after a kernel restart, sends only the rows
without an answer. ``%llm_config cache=memory`` keeps answers off the disk;
:mod:`jupyter_llm.data.batch_policy` decides how often a failing row is tried.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import queue
import threading
import time
from collections import Counter
from contextlib import nullcontext
from dataclasses import replace

from .. import errors
from ..core import call_log, event_loop
from ..core.chat import chat_async
from ..core.client import Client, take_options
from ..core.kernel import in_kernel
from ..core.limiter import Limiter
from ..core.messages import build_messages
from ..core.notes import note
from ..core.request import ChatRequest, build
from ..core.session import catalog, current
from ..core.tokens import estimate_tokens
from ..core.usage import batch_counter, set_last_batch
from . import batch_fit, batch_prompts
from . import cache as cache_store
from .batch_policy import Delivery, RowPolicy, attempts
from .calls import record_call
from .schema import Schema, as_schema, typed_columns

#: Errors that say the whole batch cannot work (key, quota, model, setting): stop, do not fail row by row.
_FATAL = (errors.AuthenticationError, errors.QuotaExceeded, errors.ModelNotFound, errors.ConfigError,
          errors.CapabilityError)
_PROGRESS_ROWS = 10
#: How long finished rows gather on the loop before they go to the waiting thread together.
_WAVE_SECONDS = 0.05

_lock = threading.Lock()


def clear_cache() -> None:
    """Forget every finished row (the next map() sends them all again): on disk too, see :mod:`.cache`."""
    cache_store.clear()


def run(data, prompt, *, model: str | None = None, schema=None, system: str | None = None,
        think: bool | None = None, concurrency: int | None = None, rpm: int | None = None,
        tpm: int | None = None, retries: int | None = None, cache: bool = True, confirm: bool = False,
        progress: bool | None = None, **params):
    """``map()`` over a pandas DataFrame, a Series or a list (see :func:`jupyter_llm.map`)."""
    session = current()
    options = take_options(params)
    # One number bounds a row's attempts: map's own, else max_retries (this call's, else the
    # session's). The transport does not retry rows on top of it.
    retries = retries if retries is not None else options.pop("max_retries", session.max_retries)
    options.pop("max_retries", None)
    for name, value in (("retries", retries), ("rpm", rpm), ("tpm", tpm)):
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 0):
            raise errors.ConfigError(f"{name} must be a whole number, 0 or more, not {value!r}.")
    client = Client(session, max_retries=0, **options)
    batch = call_log.new_id()
    template = build(session, catalog(session), [], model=model, think=think, batch=batch, **params)
    # Every row is logged under the cell that ran map(), even a row that ends after an interrupt.
    template.origin = call_log.where()
    job = _Job(data, prompt, template, client, system=system, spec=as_schema(schema) if schema is not None else None,
               cache=cache)
    job.check_size(confirm)
    started, error = time.perf_counter(), None
    try:
        job.run(_concurrency(concurrency), rpm, tpm, retries, progress)
    except BaseException as exc:
        error = exc
        raise
    finally:
        _log_batch(job, batch, template, started, error)
    return job.result()


def _log_batch(job, batch: str, template: ChatRequest, started: float, error) -> None:
    """The batch's own row in the call log: what it sent, how many rows, from the cache or failed."""
    counts = {"rows": len(job.prompts), "answered": sum(job.done), "from_cache": job.from_cache,
              "failed": len(job.errors), "prompt_template": job.template_text}
    tokens = {"prompt_tokens": sum(r["prompt_tokens"] for r in job.usage.values()),
              "completion_tokens": sum(r["completion_tokens"] for r in job.usage.values())}
    record_call("batch", job.model, params={**template.params, **counts}, inputs=None, outcome=job.summary,
                started=started, error=error if isinstance(error, Exception) else None, usage=tokens,
                source="", batch=batch)


def _concurrency(concurrency: int | None) -> int:
    ceiling = current().max_concurrency
    if concurrency is None:
        return ceiling or 8
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or concurrency < 1:
        raise errors.ConfigError(f"concurrency must be a whole number, 1 or more, not {concurrency!r}.")
    if ceiling and concurrency > ceiling:
        note(f"concurrency={concurrency} is above the session's max_concurrency={ceiling}: at most "
              f"{ceiling} requests run at once (raise it with %llm_config max_concurrency={concurrency}).")
    return concurrency


class _Job:
    """One map() call: the rows' prompts, the request they share, their cache keys, what came back."""

    def __init__(self, data, prompt, template: ChatRequest, client: Client, *, system: str | None,
                 spec: Schema | None, cache: bool):
        self.index, self.prompts = batch_prompts.prompts(data, prompt)
        self.template_text = prompt if isinstance(prompt, str) else getattr(prompt, "__name__", repr(prompt))
        self.client = client
        self.model = template.model
        self.spec = spec
        self.user_system = system
        if spec is not None and template.info.structured:
            template = replace(template, params={**template.params, "response_format": spec.response_format()})
        elif spec is not None:
            system = "\n\n".join(filter(None, (system, spec.instructions())))
        self.cache = cache
        self._request = (template, system)  # swapped whole, so a row never mixes two
        shared = json.dumps([self.model, system, template.think, spec and spec.key(), template.params],
                            sort_keys=True, default=str, ensure_ascii=False)
        self.keys = [hashlib.sha256(f"{shared}\0{p}".encode()).hexdigest() for p in self.prompts]
        n = len(self.prompts)
        self.values: list = [None] * n
        self.done = [False] * n
        self.errors: dict[int, str] = {}
        self.failures: Counter = Counter()
        self.from_cache = 0
        if cache:
            cached = cache_store.get_rows(self.keys)
            for i, key in enumerate(self.keys):
                if key in cached:
                    self.values[i], self.done[i] = cached[key], True
                    self.from_cache += 1
        # Rows with the same request are sent once: the first carries its twins' answers.
        self.pending, self.twins, first = [], {}, {}
        for i in range(n):
            if self.done[i]:
                continue
            if self.keys[i] in first:
                self.twins.setdefault(first[self.keys[i]], []).append(i)
            else:
                first[self.keys[i]] = i
                self.pending.append(i)
        self.interrupted = False
        self.policy = RowPolicy(0)
        self.delivery = Delivery()
        self.summary = ""
        self.usage, self._count = batch_counter()

    def check_size(self, confirm: bool) -> None:
        over = current().batch_confirm_over
        if not over or len(self.pending) <= over:
            return
        template, system_prompt = self._request
        system = estimate_tokens(system_prompt or "")
        prompt_tokens = sum(system + estimate_tokens(p) + 8 for p in self.pending_prompts())
        cap = template.params.get("max_tokens")
        total = prompt_tokens + cap * len(self.pending) if cap else prompt_tokens
        # A heavy job, confirmed or not, is compared with the quota and the budget left.
        fit, fits = batch_fit.fit(current(), total, bounded=bool(cap))
        if confirm:
            if not fits:
                note(" ".join(fit) + " Going ahead, as confirm=True asks.")
            return
        replies = (f"replies up to {cap:,} tokens each, so at most {total:,} tokens in all" if cap
                   else "replies of unknown length (max_tokens= bounds them)")
        raise errors.ConfigError(
            f"map() would send {len(self.pending):,} requests to {self.model} (~{prompt_tokens:,} prompt tokens, "
            f"{replies}). {' '.join(fit + [''])}The gateway asks that heavy jobs be announced and run when it "
            f"is idle: pass confirm=True to go ahead, or raise the threshold with %llm_config batch_confirm_over=N.")

    def pending_prompts(self):
        return (self.prompts[i] for i in self.pending)

    def run(self, concurrency: int, rpm, tpm, retries: int, progress) -> None:
        if not self.pending:
            return self._report()
        own = Limiter(lambda: (None, rpm, tpm)) if rpm or tpm else None
        self.policy = RowPolicy(retries)
        # A token budget stops a reply where it crosses the budget: that needs the stream.
        self.delivery = Delivery(enabled=current().budget_tokens is None)
        stop = self.policy.stop
        bar = _bar(len(self.prompts), self.from_cache, progress)
        # This thread waits for finished rows (or a fatal error) on a queue: it writes them to the
        # cache (a disk write, kept off the loop), shows progress, and takes the KeyboardInterrupt.
        self._finished, self._waiting, self._kept = queue.SimpleQueue(), True, set()
        event_loop.submit(self._send_rows(min(concurrency, len(self.pending)), own))
        left = len(self.pending)
        try:
            while left and self.policy.down is None:
                try:
                    items = [self._finished.get(timeout=0.25)]
                except queue.Empty:
                    continue
                while True:
                    try:
                        items.append(self._finished.get_nowait())
                    except queue.Empty:
                        break
                # A wave of rows (a list, perhaps ending with a fatal error) is kept in one cache
                # transaction and one progress update.
                rows = [i for wave in items for i in wave if not isinstance(i, BaseException)]
                left -= len(rows)
                self._keep(*rows)
                if bar is not None:
                    tokens = sum(row["total_tokens"] for row in list(self.usage.values()))
                    bar.set_postfix_str(f"failed={len(self.errors)}, tokens={tokens:,}", refresh=False)
                    bar.update(sum(1 + len(self.twins.get(i, ())) for i in rows))
                fatal = next((i for wave in items for i in wave if isinstance(i, BaseException)), None)
                if fatal is not None:
                    raise fatal  # a fatal error (the rest are kept per row)
        except KeyboardInterrupt:
            self.interrupted = True
            if not in_kernel():  # a script must stop; a notebook wants the partial result back
                raise
        finally:
            # No row starts after this; rows already on the wire finish on the loop and land in the cache.
            stop.set()
            with _lock:
                self._waiting = False
            self._keep(*self.pending)  # still queued, or taken off the queue as the interrupt came
            if bar is not None:
                bar.close()
            self._report()
        if self.policy.down is not None:
            raise errors.ConnectionError(f"map() stopped: the gateway cannot be reached ({self.policy.down}). "
                                         f"{self.summary.removeprefix('map: ')}")

    async def _send_rows(self, workers: int, own) -> None:
        """Run the pending rows, ``workers`` at a time; finished rows go to the waiting thread in waves."""
        rows = iter(self.pending)
        loop = asyncio.get_running_loop()
        wave: list = []
        timer: asyncio.TimerHandle | None = None

        def deliver(*fatal: BaseException) -> None:
            nonlocal timer
            if timer is not None:
                timer.cancel()
            finished, timer = wave[:], None
            wave.clear()
            with _lock:
                if self._waiting:
                    return self._finished.put([*finished, *fatal])
            self._keep(*finished)  # the waiting thread has gone: the rows are kept from here

        def done(i: int) -> None:
            # One wake of the waiting thread per wave, not per row: each wake takes the GIL
            # from this loop, and the rows it would hand over one by one go to the cache together.
            nonlocal timer
            wave.append(i)
            if timer is None:
                timer = loop.call_later(_WAVE_SECONDS, deliver)

        async def worker() -> None:
            for i in rows:  # shared by the workers: each takes the next row
                if self.policy.stop.is_set():
                    return
                try:
                    await self._row(i, own)
                except Exception as exc:  # fatal, or a fault of ours: the waiting thread raises it
                    return deliver(exc)
                done(i)

        try:
            await asyncio.gather(*(worker() for _ in range(workers)))
        finally:
            deliver()  # the last wave at once: the batch ends when its last row does

    async def _row(self, i: int, own) -> None:
        attempt, stop = 0, self.policy.stop
        while not stop.is_set():
            template, system = self._request
            request = replace(template, messages=build_messages(self.prompts[i], system=system))
            whole, started = self.delivery.whole, time.perf_counter()
            try:
                request.check()
                async with own.aslot(estimate_tokens(self.prompts[i])) if own else nullcontext():
                    reply = await chat_async(request, client=self.client, stream=not whole)
            except _FATAL as exc:
                self._count(self.model, getattr(exc.reply, "usage", None), True)
                stop.set()
                raise
            except errors.LLMError as exc:
                self._count(self.model, getattr(exc.reply, "usage", None), True)
                self.delivery.failed(exc, whole)
                refused = isinstance(exc, errors.BadRequest) and "response_format" in str(exc)
                if refused and self.spec is not None and "response_format" in template.params:
                    self._ask_in_prompt()
                    continue
                if await self.policy.failed(exc, attempt):
                    attempt += 1
                    continue
                return self._fail(i, type(exc).__name__, str(exc) + attempts(attempt + 1))
            self.policy.succeeded()
            self.delivery.finished(time.perf_counter() - started)
            self._count(self.model, reply.usage, False)
            if own is not None and reply.usage is not None:
                own.add_tokens(reply.usage.completion_tokens)
            if reply.finish_reason == "length" and self.spec is not None:
                return self._fail(i, "length", "the answer was cut at max_tokens before it was complete")
            try:
                value = self.spec.parse(reply.content) if self.spec is not None else reply.content
            except ValueError as exc:
                return self._fail(i, "invalid answer", str(exc))
            for row in (i, *self.twins.get(i, ())):
                self.values[row], self.done[row] = value, True
            return

    def _keep(self, *rows) -> None:
        """These rows are finished: their answers, where they have one, go into the cache at once."""
        if not self.cache:
            return
        new = [i for i in rows if isinstance(i, int) and self.done[i] and i not in self._kept]
        if new:
            cache_store.put_rows([(self.keys[i], self.values[i]) for i in new])
            self._kept.update(new)

    def _ask_in_prompt(self) -> None:
        """The server refused ``response_format``: put the schema in the system prompt, for every row."""
        with _lock:
            template = self._request[0]
            if "response_format" not in template.params:
                return  # another row switched already
            params = {k: v for k, v in template.params.items() if k != "response_format"}
            self._request = (replace(template, params=params),
                             "\n\n".join(filter(None, (self.user_system, self.spec.instructions()))))
        note(f"{self.model} refused response_format (no structured outputs on its server): asking for the JSON "
              f"in the system prompt instead. Set structured = false for it in the catalogue to skip the try.")

    def _fail(self, i: int, kind: str, message: str) -> None:
        with _lock:  # rows fail from several threads; a Counter's += is not atomic
            for row in (i, *self.twins.get(i, ())):
                self.errors[row] = message
                self.failures[kind] += 1

    def _report(self) -> None:
        n = len(self.prompts)
        answered = sum(self.done)
        parts = [f"{n:,} rows: {answered:,} answered"]
        if self.from_cache:
            parts.append(f"{self.from_cache:,} of them from the cache of earlier runs")
        if self.errors:
            why = ", ".join(f"{count} {kind}" for kind, count in self.failures.most_common(3))
            first = next(iter(self.errors.values()))
            parts.append(f"{len(self.errors):,} failed ({why}; first: {first}). Reasons per row in "
                         f"result.attrs['errors']; re-run to retry only those rows")
        missing = n - answered - len(self.errors)
        if self.policy.down is not None and missing:
            parts.append(f"{missing:,} not sent ({self.policy.stop_after} connection failures in a row): re-run "
                         f"the same call once the gateway is back to send only those")
        elif self.interrupted or missing:
            parts.append(f"{missing:,} not done (interrupted): re-run the same call to send only those")
        self.summary = "map: " + "; ".join(parts) + "."
        set_last_batch(self.usage, self.summary)
        if self.errors or missing or self.from_cache:
            note(self.summary)

    def result(self):
        import pandas as pd

        # attrs holds plain values: pandas compares attrs when it concatenates results.
        failed = {self.index[i]: m for i, m in sorted(self.errors.items())}
        if self.spec is None:
            out = pd.Series([v if d else None for v, d in zip(self.values, self.done)],
                            index=self.index, dtype=object, name="answer")
        else:
            rows = [v if d and isinstance(v, dict) else {} for v, d in zip(self.values, self.done)]
            out = pd.DataFrame.from_records(rows, columns=self.spec.fields, index=self.index)
            out = typed_columns(out, self.spec.json)
            if failed:
                out["errors"] = pd.Series(failed, dtype=object).reindex(self.index)
        out.attrs.update(errors=failed, summary=self.summary, interrupted=self.interrupted)
        return out


def _bar(total: int, done: int, progress):
    if progress is False or (progress is None and total - done < _PROGRESS_ROWS):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=done, desc="map", unit="row", postfix="failed=0, tokens=0")

