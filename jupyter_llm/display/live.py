"""The widget view of a reply while it streams: reasoning accordion, answer, tool calls, notices.

Text is shown as HTML widgets. Finished Markdown is frozen into widgets whose value never
changes again, so each update re-sends only the part still being written. Freezing costs
a widget (its ``comm_open``) and a ``children`` update, so finished text is staged in the
pending widget and frozen once staging has cost about as much as a widget would.

The view is displayed once, as a widget view whose ``text/plain`` is empty: nbval compares
only that first output, which therefore carries nothing that depends on timing.
"""
from __future__ import annotations

from html import escape

import ipywidgets as widgets
from IPython.display import display
from ipywidgets.widgets.widget_string import HTMLStyle

from .blocks import BlockSplitter
from .html import render_markdown

_CLASSES = ("jp-RenderedHTMLCommon", "jp-RenderedMarkdown")  # styled like Markdown output
# What the HTML widget's own CSS gets wrong for Markdown: the line height and font size
# of a one-line control, margins that double the gap where a text is split between
# widgets, and centred tables (Markdown outputs have them on the left).
_CSS = (
    "<style>.jllm-live .widget-html{margin-top:0;margin-bottom:0}"
    ".jllm-live .widget-html-content,.jllm-live .jupyter-widget-html-content{margin:0;"
    "line-height:var(--jp-content-line-height,1.6);font-size:var(--jp-content-font-size1,14px)}"
    ".jllm-live table{margin-left:0;margin-right:0}</style>"
)
_GROUP = 8  # frozen widgets per box: a children update re-sends the whole list
_SMALL = "color: var(--jp-ui-font-color2, grey); font-size: 0.85em"


class _Parts:
    """One Layout and one Style shared by every widget of a view, all it created, and
    how many messages it sent (each creation or state change is one)."""

    def __init__(self):
        self.created: list[widgets.Widget] = []
        self.sent = 0
        self.layout = self.own(widgets.Layout())
        self.style = self.own(HTMLStyle())

    def own(self, widget):
        self.created.append(widget)
        self.sent += 1
        return widget

    def set(self, widget, **state) -> bool:
        """Change what differs, in one message; False when nothing did."""
        changed = {name: value for name, value in state.items() if getattr(widget, name) != value}
        if not changed:
            return False
        with widget.hold_sync():
            for name, value in changed.items():
                setattr(widget, name, value)
        self.sent += 1
        return True

    def html(self, value: str) -> widgets.HTML:
        return self.own(widgets.HTML(value, layout=self.layout, style=self.style, _dom_classes=_CLASSES))

    def box(self, children) -> widgets.VBox:
        return self.own(widgets.VBox(tuple(children), layout=self.layout))


class MarkdownColumn:
    """A growing Markdown text: frozen HTML widgets, then one pending widget."""

    def __init__(self, parts: _Parts, stage_limit: int = 1024, long_block: int = 1024):
        self._parts = parts
        self._splitter = BlockSplitter(long_block)
        self._stage_limit = stage_limit
        self._staged: list[str] = []
        self._staged_size = 0
        self._staged_sent = 0
        self._dirty = False
        self._pending: widgets.HTML | None = None
        self._groups: list[widgets.VBox] = []
        self.box: widgets.VBox | None = None
        self.chars = 0

    def feed(self, text: str) -> None:
        if text:
            self._splitter.feed(text)
            self.chars += len(text)
            self._dirty = True

    def flush(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        for piece in self._splitter.split():
            html = render_markdown(piece.markdown)
            self._staged.append(html)
            self._staged_size += len(html)
        # A new widget costs about a kilobyte: freeze when the staged text is that big, or
        # once re-sending it has cost that much (rare at high speed, most blocks at low).
        if self._staged and max(self._staged_size, self._staged_sent) >= self._stage_limit:
            self._promote()
        value = "".join(self._staged) + render_markdown(self._splitter.pending.markdown)
        if self._pending is None:
            self._pending = self._parts.html(value)
            self.box = self._parts.box([*self._groups, self._pending])
        elif not self._parts.set(self._pending, value=value):
            return
        self._staged_sent += self._staged_size

    def _promote(self) -> None:
        frozen = self._parts.html("".join(self._staged))
        self._staged, self._staged_size, self._staged_sent = [], 0, 0
        if self._groups and len(self._groups[-1].children) < _GROUP:
            self._parts.set(self._groups[-1], children=(*self._groups[-1].children, frozen))
            return
        self._groups.append(self._parts.box([frozen]))
        if self.box is not None:
            self._parts.set(self.box, children=(*self._groups, self._pending))


class LiveView:
    """Widgets showing one reply as it streams; ``close()`` removes them all.

    Example::

        view = LiveView()
        view.answer.feed("Hello")
        view.flush()            # displays the view on first use
        view.close()
    """

    def __init__(self, show=None):
        # ``show(root)`` places the view somewhere else (a panel) instead of displaying it.
        self._show = show
        self._parts = _Parts()
        self.answer = MarkdownColumn(self._parts)
        self._reasoning: MarkdownColumn | None = None
        self._accordion: widgets.Accordion | None = None
        self._tools: widgets.HTML | None = None
        self._notices: widgets.HTML | None = None
        self._root: widgets.VBox | None = None
        self._handle = None

    @property
    def reasoning(self) -> MarkdownColumn:
        if self._reasoning is None:
            self._reasoning = MarkdownColumn(self._parts)
        return self._reasoning

    def flush(self, *, title: str | None = None, expanded: bool = True, tools=(), notices=()) -> int:
        """Send what changed and return how many messages that took.

        ``title`` (None: unchanged) and ``expanded`` describe the reasoning panel;
        ``tools`` are HTML fragments (one per call), ``notices`` lines of text.
        """
        sent = self._parts.sent
        self.answer.flush()
        if self._reasoning is not None:
            self._reasoning.flush()
            self._flush_accordion(title, expanded)
        self._tools = self._html(self._tools, "".join(tools))
        self._notices = self._html(self._notices, "".join(f'<div style="{_SMALL}">{escape(n)}</div>' for n in notices))
        parts = (self._accordion, self.answer.box, self._tools, self._notices)
        children = tuple(part for part in parts if part is not None)
        if self._root is None:
            hidden = self._parts.own(widgets.Layout(display="none"))
            css = self._parts.own(widgets.HTML(_CSS, layout=hidden, style=self._parts.style))
            root = widgets.VBox((css, *children), layout=self._parts.layout, _dom_classes=("jllm-live",))
            self._root = self._parts.own(root)
            if self._show is not None:
                self._show(self._root)
                return self._parts.sent - sent
            bundle = {
                "application/vnd.jupyter.widget-view+json": {
                    "version_major": 2,
                    "version_minor": 0,
                    "model_id": self._root.model_id,
                },
                "text/plain": "",
            }
            self._handle = display(bundle, raw=True, display_id=True)
        else:
            self._parts.set(self._root, children=(self._root.children[0], *children))
        return self._parts.sent - sent

    def close(self) -> None:
        """Replace the view with an empty output and close every widget it created."""
        if self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
        for widget in reversed(self._parts.created):
            widget.close()
        self._parts.created.clear()

    def _flush_accordion(self, title: str | None, expanded: bool) -> None:
        if self._reasoning.box is None:
            return
        index = 0 if expanded else None
        titles = (title or "",)
        if self._accordion is None:
            self._accordion = self._parts.own(
                widgets.Accordion(
                    (self._reasoning.box,), titles=titles, selected_index=index, layout=self._parts.layout
                )
            )
            return
        if title is None:
            self._parts.set(self._accordion, selected_index=index)
        else:
            self._parts.set(self._accordion, selected_index=index, titles=titles)

    def _html(self, widget: widgets.HTML | None, value: str) -> widgets.HTML | None:
        """An HTML widget created with its first content, then updated when it changes."""
        if widget is None:
            return self._parts.html(value) if value else None
        self._parts.set(widget, value=value)
        return widget
