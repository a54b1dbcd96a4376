"""The view of a reply while it streams: one widget, sent only what changed.

One anywidget per reply (its front-end module, ``static/live.js``, ships in this package:
nothing is fetched from a CDN). Each update is one custom message: the operations of
:mod:`.blocks` for the reasoning and the answer, the reasoning header, the tool lines and
notices, as JSON compressed by one deflate stream that lasts the whole reply, so repeated
markup costs little. No widget is opened or closed per block, and a finished block is
never sent again: the front end keeps it.

The view is displayed once, as a widget view whose ``text/plain`` is empty: nbval compares
only that first output, which therefore carries nothing that depends on timing. A front
end without widgets (nbclient, a saved notebook) shows that empty text, then the final
outputs that replace the view.
"""
from __future__ import annotations

import functools
import json
import uuid
import zlib
from html import escape
from pathlib import Path

import anywidget
import traitlets
from IPython.display import display

from .blocks import BlockStream

_SMALL = "color: var(--jp-ui-font-color2, grey); font-size: 0.85em"


class LiveWidget(anywidget.AnyWidget):
    """The front-end half of a live view; ``key`` pairs its model with its views."""

    _esm = Path(__file__).with_name("static") / "live.js"
    key = traitlets.Unicode("").tag(sync=True)


@functools.cache
def _layout():
    # Every widget has a Layout, each a widget of its own: one for all the views of the kernel
    # saves a comm_open and a comm_close per reply.
    import ipywidgets  # loaded with anywidget anyway

    return ipywidgets.Layout()


class LiveView:
    """Shows one reply as it streams; ``close()`` empties and closes it.

    Example::

        view = LiveView()
        view.answer.feed("Hello")
        view.flush()            # displays the view on first use
        view.close()
    """

    def __init__(self, show=None):
        # ``show(widget)`` places the view somewhere else (a panel) instead of displaying it.
        self._show = show
        self.answer = BlockStream()
        self._reasoning: BlockStream | None = None
        self._widget: LiveWidget | None = None
        self._handle = None
        self._zip = zlib.compressobj(6)
        self._header: tuple | None = None
        self._extras = {"tools": "", "notes": ""}
        self._reset = False
        #: Bytes of operations sent (before compression) and as sent, for the curious and the tests.
        self.raw_bytes = self.sent_bytes = 0

    @property
    def reasoning(self) -> BlockStream:
        if self._reasoning is None:
            self._reasoning = BlockStream()
        return self._reasoning

    def reset(self) -> None:
        """Forget the reasoning and the answer shown so far (the split between them was revised)."""
        self.answer, self._reasoning, self._reset, self._header = BlockStream(), None, True, None

    def flush(self, *, title: str | None = None, expanded: bool = True, tools=(), notices=()) -> int:
        """Send what changed and return how many messages that took.

        ``title`` (None: unchanged) and ``expanded`` describe the reasoning header;
        ``tools`` are HTML fragments (one per call), ``notices`` lines of text.
        """
        ops: list[list] = [["z"]] if self._reset else []
        self._reset = False
        if self._reasoning is not None:
            ops += [["r", *op] for op in self._reasoning.ops()]
            header = (self._header[0] if title is None and self._header else title, expanded)
            if header != self._header:
                ops.append(["h", *header])
                self._header = header
        ops += [["a", *op] for op in self.answer.ops()]
        extras = {"tools": "".join(tools), "notes": "".join(f'<div style="{_SMALL}">{escape(n)}</div>' for n in notices)}
        for name, html in extras.items():
            if html != self._extras[name]:
                ops.append(["x", name, html])
                self._extras[name] = html
        sent = 0
        if self._widget is None:
            self._widget = LiveWidget(key=uuid.uuid4().hex, layout=_layout())
            sent += 2  # the widget's comm_open, and its display
            if self._show is not None:
                self._show(self._widget)
            else:
                bundle = {
                    "application/vnd.jupyter.widget-view+json": {
                        "version_major": 2, "version_minor": 0, "model_id": self._widget.model_id},
                    "text/plain": "",
                }
                self._handle = display(bundle, raw=True, display_id=True)
        if ops:
            self._send(ops)
            sent += 1
        return sent

    def _send(self, ops: list) -> None:
        raw = json.dumps(ops, ensure_ascii=False, separators=(",", ":")).encode()
        packed = self._zip.compress(raw) + self._zip.flush(zlib.Z_SYNC_FLUSH)
        self.raw_bytes += len(raw)
        self.sent_bytes += len(packed)
        self._widget.send({"z": len(raw)}, buffers=[packed])

    def close(self) -> None:
        """Replace the view with an empty output and close its widget."""
        if self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
        if self._widget is not None:
            self._widget.close()
