"""The compare panel: one prompt to several models at once, streaming side by side.

Each column streams like ``%%llm`` (coalesced, frozen blocks) and shows time to first
token, tokens/s, tokens and reasoning length; when every model is done, a summary table
appears under the columns and ``panel.frame`` holds it as a DataFrame. Each model's
reply is one coroutine on the batch loop (:mod:`jupyter_llm.core.background`), not a
thread; the columns are updated on the kernel's loop.
"""
from __future__ import annotations

import asyncio
import math
import time
from html import escape

import ipywidgets as widgets

from .. import errors
from ..core.background import BackgroundChat
from ..core.events import ContentDelta, ReasoningDelta
from ..core.messages import build_messages
from ..core.session import catalog
from ._common import badges_html, css, fallback_bundle, running_loop
from ._reply_box import ReplyBox

_GREY = "color: var(--jp-ui-font-color2, grey); font-size: 0.85em"
_LIVE_STATS = 0.25  # seconds between live updates of a column's numbers
COLUMNS = ["model", "ttft_s", "tokens_per_s", "tokens", "prompt_tokens", "reasoning_chars", "reasoning_tokens",
           "answer_chars", "elapsed_s", "finish_reason", "error"]


class _Column:
    """One model's column: header, live numbers, the streaming reply."""

    def __init__(self, model: str):
        self.model = model
        self.reply_box = ReplyBox()
        self.stats = widgets.HTML(f'<div style="{_GREY}">waiting for the first token…</div>', _dom_classes=("jllm-text",))
        header = widgets.HTML(f"<b>{escape(model)}</b><br>{badges_html(catalog()[model])}")
        self.widget = widgets.VBox((header, self.stats, self.reply_box.box), _dom_classes=("jllm-column",))
        self.reply = None
        self.error: BaseException | None = None
        self.job = None
        self._started = time.perf_counter()
        self._first: float | None = None
        self._chars = {"answer": 0, "reasoning": 0}
        self._shown = 0.0

    def feed(self, events) -> None:
        for event in events:
            if isinstance(event, (ContentDelta, ReasoningDelta)):
                if self._first is None:
                    self._first = time.perf_counter() - self._started
                self._chars["answer" if isinstance(event, ContentDelta) else "reasoning"] += len(event.text)
        self.reply_box.feed(events)
        now = time.perf_counter()
        if self._first is not None and now - self._shown >= _LIVE_STATS:
            self._shown = now
            self.stats.value = (f'<div style="{_GREY}">first token {self._first:.2f} s · '
                                f'{self._chars["answer"]:,} chars · reasoning {self._chars["reasoning"]:,} chars</div>')

    def finish(self, reply, error) -> None:
        self.reply, self.error = reply, error
        self.reply_box.finish(reply, error)
        self.stats.value = f'<div style="{_GREY}">{escape(_stats_line(self.row()))}</div>'

    def row(self) -> dict:
        reply = self.reply
        usage = reply.usage if reply is not None else None
        return {
            "model": self.model,
            "ttft_s": reply.ttft if reply is not None else None,
            "tokens_per_s": reply.tokens_per_second if reply is not None else None,
            "tokens": usage.completion_tokens if usage else None,
            "prompt_tokens": usage.prompt_tokens if usage else None,
            "reasoning_chars": len(reply.reasoning) if reply is not None else 0,
            "reasoning_tokens": usage.reasoning_tokens if usage else None,
            "answer_chars": len(reply.content) if reply is not None else 0,
            "elapsed_s": reply.elapsed if reply is not None else None,
            "finish_reason": reply.finish_reason if reply is not None else None,
            "error": None if self.error is None else ("stopped" if isinstance(self.error, errors.Stopped)
                                                      else type(self.error).__name__),
        }


class ComparePanel(widgets.VBox):
    """Columns of replies from several models to the same prompt, streamed concurrently.

    ``await panel`` waits for every column and returns the summary DataFrame (one row per
    model: ttft_s, tokens_per_s, tokens, reasoning_chars, ...), also kept in ``panel.frame``.

    Example::

        panel = jupyter_llm.compare("Explain a p-value in two sentences.", models=["qwen3-32b", "qwq-32b"])
        panel                    # columns stream side by side
        frame = await panel      # in a later cell: the summary table
    """

    def __init__(self, prompt: str, models, *, system: str | None = None, think: bool | None = None,
                 on_done=None, **params):
        models = [m.strip() for m in ([models] if isinstance(models, str) else models) if m and m.strip()]
        if not models:
            raise errors.ConfigError("Name the models to compare, e.g. models=['qwen3-32b', 'qwq-32b'].")
        if not str(prompt).strip():
            raise errors.ConfigError("The prompt is empty: give the models something to answer.")
        self.prompt = prompt
        self.models = list(dict.fromkeys(models))
        self.messages = build_messages(prompt, system=system)
        self.options = dict(params, think=think)
        self.frame = None
        self._on_done = on_done
        self._task: asyncio.Task | None = None
        self.columns = [_Column(m) for m in self.models]
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop")
        self.stop_button.on_click(lambda _: self.stop())
        self.summary = widgets.HTML()
        row = widgets.HBox(tuple(c.widget for c in self.columns), layout=widgets.Layout(width="100%"))
        title = widgets.HTML(f'<div style="{_GREY}">Prompt: {escape(_short(prompt))}</div>')
        super().__init__((css(), title, row, self.stop_button, self.summary),
                         _dom_classes=("jllm-panel", "jllm-compare"))

    def start(self) -> asyncio.Task:
        """Send the prompt to every model (once); returns the task that ends with the DataFrame."""
        if self._task is None:
            self._task = running_loop().create_task(self.run())
        return self._task

    async def run(self):
        """Stream every column concurrently; the summary DataFrame when all are done."""
        for column in self.columns:
            column.job = BackgroundChat(self.messages, on_events=column.feed, model=column.model, **self.options)
        await asyncio.gather(*(self._one(c) for c in self.columns))
        self.stop_button.disabled = True
        self.frame = self._frame()
        self.summary.value = _summary_html(self.frame)
        if self._on_done is not None:
            self._on_done(self.frame)
        return self.frame

    async def _one(self, column: _Column) -> None:
        try:
            reply, error = await column.job.run(), None
        except errors.LLMError as exc:
            reply, error = exc.reply, exc
        except Exception as exc:  # shown in the column, not as a traceback elsewhere
            reply, error = None, exc
        column.finish(reply, error)

    def stop(self) -> None:
        """Stop every reply still streaming; finished columns keep their text."""
        for column in self.columns:
            if column.job is not None:
                column.job.stop()

    def __await__(self):
        return self.start().__await__()

    def _frame(self):
        import pandas as pd

        return pd.DataFrame([c.row() for c in self.columns], columns=COLUMNS).set_index("model")

    def _repr_mimebundle_(self, **kwargs):
        plain = (f"Compare panel: {', '.join(self.models)} answering {_short(self.prompt)!r}. "
                 f"Interactive with a running kernel; the summary table is in .frame (and _llm_compare).")
        html = (f"<p><b>Compare panel</b>: {escape(', '.join(self.models))} answering "
                f"<em>{escape(_short(self.prompt))}</em>.</p>")
        return fallback_bundle(self, plain, html)


def compare(prompt: str, models, *, system: str | None = None, think: bool | None = None, **params) -> ComparePanel:
    """Send ``prompt`` to several ``models`` at once and stream their replies side by side.

    Returns the :class:`ComparePanel` (shown when it is a cell's result) with every reply
    already started; ``await panel`` gives the summary DataFrame. Outside an event loop (a
    script), it runs to the end first and ``panel.frame`` is ready.

    Example::

        panel = jupyter_llm.compare("Explain a p-value in two sentences.",
                                    models=["qwen3-32b", "qwq-32b", "qwen72b-awq"])
        panel
        frame = await panel
        frame[["ttft_s", "tokens_per_s", "tokens", "reasoning_chars"]]
    """
    panel = ComparePanel(prompt, models, system=system, think=think, **params)
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(panel.run())
        return panel
    panel.start()
    return panel


def _stats_line(row: dict) -> str:
    parts = []
    if row["ttft_s"] is not None:
        parts.append(f"first token {row['ttft_s']:.2f} s")
    if row["tokens_per_s"] is not None:
        parts.append(f"{row['tokens_per_s']:,.0f} tokens/s")
    if row["tokens"] is not None:
        parts.append(f"{row['tokens']:,} tokens")
    parts.append(f"reasoning {row['reasoning_chars']:,} chars")
    if row["error"]:
        parts.append(row["error"])
    return " · ".join(parts)


def _summary_html(frame) -> str:
    head = "".join(f"<th>{escape(c)}</th>" for c in ("model", "first token", "tokens/s", "tokens",
                                                     "reasoning chars", "finish"))
    rows = "".join(
        f"<tr><td>{escape(model)}</td><td>{_num(r.ttft_s, '{:.2f} s')}</td><td>{_num(r.tokens_per_s, '{:,.0f}')}</td>"
        f"<td>{_num(r.tokens, '{:,.0f}')}</td><td>{r.reasoning_chars:,}</td>"
        f"<td>{escape(str(r.error or r.finish_reason or ''))}</td></tr>"
        for model, r in frame.iterrows()
    )
    return f"<table class='jllm-summary'><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


def _num(value, form: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return form.format(value)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
