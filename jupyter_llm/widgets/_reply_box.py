"""One reply inside a panel: streamed like ``%%llm`` (coalesced, frozen blocks), then kept.

``%%llm`` replaces its live view with plain outputs when the reply ends; a panel keeps
the view (reasoning folded) and adds a footer line: usage and timings, tool-call cards,
or the error, shown here rather than as a traceback in another cell.
"""
from __future__ import annotations

import asyncio
from html import escape

import ipywidgets as widgets

from .. import errors
from ..core.events import RoundEnd
from ..display.html import tool_card_bundle
from ..display.live import LiveView
from ..display.renderer import INTERVAL, ReplyRenderer, arrived

_GREY = "color: var(--jp-ui-font-color2, grey); font-size: 0.85em"
_RED = "color: var(--jp-error-color1, #b00020)"


class ReplyBox(ReplyRenderer):
    """Streams events into ``box`` (a VBox); ``finish()`` folds the reasoning and adds the footer.

    Example::

        box = ReplyBox()
        panel.children += (box.box,)
        box.feed(events)              # on the loop, batch by batch
        box.finish(reply, error=None)
    """

    def __init__(self, interval: float = INTERVAL):
        super().__init__(interval)
        self.footer = widgets.HTML("", _dom_classes=("jllm-footer",))
        self.box = widgets.VBox((self.footer,), _dom_classes=("jllm-reply",))
        self.flushes = 0
        self._timer: asyncio.TimerHandle | None = None

    def on_event(self, event) -> None:
        # A panel keeps one view for the whole reply, tool rounds included: finish() ends it.
        if not isinstance(event, RoundEnd):
            super().on_event(event)

    def _new_view(self):
        return LiveView(show=self._place)

    def _place(self, root) -> None:
        self.box.children = (root, self.footer)

    def _flush(self, now: float, at_once: bool = False) -> None:
        self.flushes += 1
        super()._flush(now, at_once)

    def feed(self, events) -> None:
        """Take a batch of events; what the throttle held back is sent one interval later."""
        for event in events:
            self.on_event(event)
        if self._throttle.pending and self._live is not None and self._timer is None:
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._timer = loop.call_later(self._throttle.interval, self._late)

    def _late(self) -> None:
        self._timer = None
        if self._throttle.pending and self._live is not None:
            self._throttle.flushed()
            self._flush(self._clock())

    def note(self, text: str) -> None:
        """A grey line in the footer (e.g. "waiting for the model…")."""
        self.footer.value = f'<div style="{_GREY}">{escape(text)}</div>'

    def finish(self, reply, error: BaseException | None = None) -> None:
        """The last update: reasoning folded with its final header, then the footer."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._live is not None:
            now = self._clock()
            self._stop_thinking(now)
            self._flush(now)
        parts = []
        for result in getattr(reply, "tool_results", None) or ():
            parts.append(tool_card_bundle(result)["text/html"])
        # A request that never started has no usage to tell (nor is it INCOMPLETE): the error says it all.
        started = reply is not None and (error is None or arrived(reply))
        line = reply.summary() if started else ""
        if isinstance(error, errors.Stopped):
            line += " · stopped"
        if line:
            parts.append(f'<div style="{_GREY}">{escape(line)}</div>')
        if error is not None and not isinstance(error, errors.Stopped):
            parts.append(f'<div style="{_RED}">{escape(_message(error))}</div>')
        self.footer.value = "".join(parts)


def _message(error: BaseException) -> str:
    if isinstance(error, errors.LLMError):
        return f"{type(error).__name__}: {error}"
    return f"Unexpected {type(error).__name__}: {error} (a bug in jupyter-llm; the panel still works)"
