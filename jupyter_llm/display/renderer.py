"""ReplyRenderer: stream events into a live widget view, then leave plain outputs behind.

While the reply streams, one widget shows it (see ``live.py``), updated with what changed
at most once per interval, and less often when rendering is slow. When it ends, that
view is emptied and closed, and the reply is displayed as ordinary outputs, each sent
once and never updated: reasoning (``<details>`` + text), answer (Markdown + text), tool
calls, usage line. So the first ``display_data`` of every output is what a saved notebook
holds, which is all nbval compares, and the notebook reads the same without a kernel.
"""
from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable

from ..core.events import (ChoiceEvent, ContentDelta, Event, Notice, ReasoningDelta, RefusalDelta, Revised,
                           RoundEnd, ToolCallDelta, ToolStatus)
from ..core.kernel import in_kernel
from .html import (answer_bundles, reasoning_bundle, reasoning_header, refusal_bundle, tool_calls_bundle,
                   tool_card_bundle, tool_live_html, usage_bundle)
from .throttle import Throttle

#: Seconds between live updates. About eight a second reads as smooth streaming; with the
#: rare update that cannot wait (the reasoning folding), a front end gets at most ten a second.
INTERVAL = 0.12
_TITLE_INTERVAL = 0.25  # the thinking header counts up; four times a second reads as live
_ARGS_SHOWN = 60
_NOTICES_SHOWN = 3


class ReplyRenderer:
    """Shows one reply in the current output area as it streams.

    Example::

        renderer = ReplyRenderer()
        renderer.start(model="qwq-32b")
        for event in events:
            renderer.on_event(event)
        renderer.finish(reply, error=None)
    """

    def __init__(self, interval: float = INTERVAL, clock: Callable[[], float] = time.monotonic,
                 answer: Callable[[str], list[dict]] = answer_bundles, head: tuple[int, int] | None = None):
        self._clock = clock
        self._answer = answer  # the answer's outputs, in order (-f FORMAT shows code, JSON, HTML, math)
        self._interval = interval
        # (lines, characters) of the answer the live view shows at most; past them it counts
        # what arrives. A -f json reply of megabytes is data for Python, not text to read live.
        self._head = head
        self._model = ""
        self._reset()

    def _reset(self) -> None:
        """Ready for the next round of the reply: no view, nothing seen, the first update due at once."""
        self._throttle = Throttle(self._interval, self._clock)
        self._live = None
        self._started = False
        self._thinking_since: float | None = None
        self._thinking_until: float | None = None
        self._title_at = -float("inf")
        self._tools: dict[int, list[str]] = {}
        self._status: dict[int, ToolStatus] = {}  # by the call's position in the reply
        self._notices: list[str] = []
        self._answer_chars = self._answer_lines = 0

    def start(self, model: str = "") -> None:
        """Get ready for a reply from ``model``; nothing is shown until the first event."""
        self._model = model

    def on_event(self, event: Event) -> None:
        """Take one event; the view is updated at most once per ``interval``.

        A :class:`RoundEnd` replaces the round's live view with its outputs, and the next
        event (a tool round's follow-up) starts a new view.
        """
        if isinstance(event, RoundEnd):
            self.finish(event.reply)
            return
        if isinstance(event, ChoiceEvent):
            return  # the live view shows the first choice; the others are in the final outputs
        if isinstance(event, Revised):
            self._revise(event)
            return
        if isinstance(event, RefusalDelta):
            event = ContentDelta(event.text)
        first = not self._started
        if first:
            self._started = True
            self._live = self._new_view()
        now = self._clock()
        urgent = False
        if isinstance(event, ReasoningDelta) and event.text:
            if self._thinking_since is None:
                self._thinking_since = now
            if self._live is not None:
                self._live.reasoning.feed(event.text)
        elif isinstance(event, ContentDelta):
            if self._live is not None:
                self._feed_answer(event.text)
            urgent = bool(event.text.strip()) and self._stop_thinking(now)
        elif isinstance(event, ToolCallDelta):
            name, arguments = self._tools.setdefault(event.index, ["", ""])
            self._tools[event.index] = [name or event.name or "", arguments + event.arguments]
            urgent = self._stop_thinking(now)
        elif isinstance(event, ToolStatus):
            # No other event comes while a tool runs: show its state now, not at the next one.
            self._status[event.index] = event
            urgent = True
        elif isinstance(event, Notice):
            # A notice often announces a wait (a retry): no event would flush it during that.
            self._notices = [*self._notices[-(_NOTICES_SHOWN - 1) :], event.text]
            urgent = True
        if self._live is None:
            return
        if urgent or first:
            # The first update opens the view and an urgent one reshapes it (the answer starts,
            # a tool runs). Each goes out now and counts as one update, not as the widgets it
            # creates: charged by those, the next update would wait 0.4 s and the text stall.
            self._throttle.flushed()
            self._flush(now, at_once=True)
        elif self._throttle.due():
            self._flush(now)

    def _feed_answer(self, text: str) -> None:
        if self._head is None:
            self._live.answer.feed(text)
            return
        lines, chars = self._head[0] - self._answer_lines, self._head[1] - self._answer_chars
        self._answer_chars += len(text)
        self._answer_lines += text.count("\n")
        if lines > 0 and chars > 0:
            cut = -1
            for _ in range(lines):
                cut = text.find("\n", cut + 1, chars)
                if cut < 0:
                    break
            self._live.answer.feed(text[:chars] if cut < 0 else text[:cut + 1])

    def _progress(self) -> list[str]:
        """The line that counts what the live view no longer shows."""
        if self._head is None or (self._answer_lines < self._head[0] and self._answer_chars <= self._head[1]):
            return []
        return [f"… {self._answer_chars:,} characters received; the whole reply shows when it is complete."]

    def _revise(self, event: Revised) -> None:
        """The split so far was wrong: show the text again, split the new way."""
        if self._live is not None:
            self._live.reset()
        if event.reasoning and self._thinking_since is None:
            self._thinking_since = self._clock()
        if not event.reasoning:
            self._thinking_since = self._thinking_until = None
        if self._live is not None:
            self._live.reasoning.feed(event.reasoning)
            self._answer_chars = self._answer_lines = 0
            self._feed_answer(event.content)
            self._throttle.flushed()
            self._flush(self._clock())

    def finish(self, reply, error: BaseException | None = None) -> None:
        """Replace the live view with the reply's outputs and its usage line.

        With ``error`` (the caller reports it, as one line), a reply that never started
        (no text, reasoning or tool call arrived) shows nothing: there is nothing to keep,
        and the error says what happened. A partial reply shows what arrived, marked
        INCOMPLETE. Never raises for ``error``.
        """
        if self._live is not None:
            self._live.close()
            self._live = None
        if reply is None or (error is not None and not arrived(reply)):
            self._reset()
            return
        seconds = self._thinking_seconds(self._clock())
        if reply.reasoning.strip():
            _show(reasoning_bundle(reply.reasoning, seconds))
        if reply.content.strip():
            for bundle in self._answer(reply.content):
                _show(bundle)
        if reply.refusal:
            _show(refusal_bundle(reply.refusal))
        results = getattr(reply, "tool_results", None)
        if results:
            # The calls were run: one card each (arguments, status, result) says all the list would.
            for result in results:
                _show(tool_card_bundle(result))
        elif reply.tool_calls:
            _show(tool_calls_bundle(reply.tool_calls))
        _show(usage_bundle((reply if reply.model else dataclasses.replace(reply, model=self._model)).summary()))
        self._reset()

    def _new_view(self):
        """The widget view for this reply, or None where no front end can show one."""
        if not in_kernel():
            return None
        from .live import LiveView  # ipywidgets: loaded when a reply is first shown, not at %load_ext

        return LiveView()

    def _stop_thinking(self, now: float) -> bool:
        """Mark the end of reasoning; True the first time (the panel must collapse now)."""
        if self._thinking_since is None or self._thinking_until is not None:
            return False
        self._thinking_until = now
        return True

    def _thinking_seconds(self, now: float) -> float | None:
        if self._thinking_since is None:
            return None
        until = now if self._thinking_until is None else self._thinking_until
        return until - self._thinking_since

    def _flush(self, now: float, at_once: bool = False) -> None:
        title = None
        thinking = self._thinking_until is None
        if self._thinking_since is not None and (not thinking or now - self._title_at >= _TITLE_INTERVAL):
            self._title_at = now
            chars, seconds = self._live.reasoning.chars, self._thinking_seconds(now)
            title = reasoning_header(chars, seconds, thinking=thinking)
        calls = [self._tools[index] for index in sorted(self._tools)]
        tools = [tool_live_html(name, arguments, self._status.get(i), _ARGS_SHOWN)
                 for i, (name, arguments) in enumerate(calls)]
        began = time.perf_counter()
        sent = self._live.flush(title=title, expanded=thinking, tools=tools, notices=self._notices + self._progress())
        self._throttle.cost(1 if at_once else sent, time.perf_counter() - began)


def _show(bundle: dict) -> None:
    from IPython.core.interactiveshell import InteractiveShell

    if InteractiveShell.initialized():
        from IPython.display import display

        display(bundle, raw=True)
    else:
        print(bundle["text/plain"])


def arrived(reply) -> bool:
    """True when any of the reply reached the user: text, reasoning or a tool call."""
    return bool(reply.content.strip() or reply.reasoning.strip() or reply.tool_calls)
