"""What the panels share: capability badges, the model list, the loop, the saved-notebook fallback."""
from __future__ import annotations

import asyncio
from html import escape

import ipywidgets as widgets

from .. import errors
from ..core.session import catalog

_BADGE = ("display:inline-block;margin-right:4px;padding:0 6px;border-radius:8px;font-size:0.8em;"
          "background:var(--jp-layout-color2,#eee);color:var(--jp-ui-font-color1,#333)")

#: Panel look: a frame, and Markdown inside replies styled like Markdown outputs.
CSS = (
    "<style>.jllm-panel{border:1px solid var(--jp-border-color2,#ddd);border-radius:4px;padding:6px}"
    ".jllm-user{background:var(--jp-layout-color2,#f3f3f3);border-radius:4px;padding:2px 8px;margin:4px 0}"
    # Columns grow with their answers: a fixed height cut them mid-line, to be read by scrolling
    # three boxes. The notebook scrolls instead, and the answers stay side by side.
    # What is wider than its column (a table in a narrow window) scrolls inside it.
    ".jllm-column{flex:1 1 0;min-width:0;overflow-x:auto;border-left:2px solid var(--jp-border-color2,#ddd);"
    "padding-left:6px}"
    # An HTML widget has the line height of a one-line control (28px): wrapped text in it
    # reads as separate, widely spaced lines.
    ".jllm-panel .jllm-text .widget-html-content,.jllm-panel .jllm-footer .widget-html-content{line-height:1.4}"
    "</style>"
)


def badges(info) -> list[str]:
    """Short capability labels of a model: thinking (switchable), tools, vision, context."""
    out = []
    if info.thinking:
        out.append("thinking (switchable)" if info.thinking_switch else "thinking")
    if info.tools:
        out.append("tools")
    if info.vision:
        out.append("vision")
    if info.context:
        out.append(f"{info.context // 1024}k context" if info.context >= 1024 else f"{info.context} context")
    if info.note:
        out.append(info.note)
    return out


def badges_html(info) -> str:
    return "".join(f'<span style="{_BADGE}">{escape(b)}</span>' for b in badges(info))


def chat_models() -> tuple[list[str], str | None]:
    """The chat models the gateway serves, and an error message instead when it cannot be asked."""
    try:
        return catalog().chat_models(), None
    except errors.LLMError as exc:
        return [], f"{type(exc).__name__}: {exc}"


def css() -> widgets.HTML:
    return widgets.HTML(CSS, layout=widgets.Layout(display="none"))


def running_loop() -> asyncio.AbstractEventLoop:
    """The loop panels start replies on: the kernel's (a cell, a widget callback) or a script's."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError as exc:
        raise errors.ConfigError(
            "Panels stream replies as asyncio tasks and need a running event loop: use them in a "
            "Jupyter kernel, or inside a coroutine (asyncio.run) in a script."
        ) from exc


def fallback_bundle(widget, plain: str, html: str) -> dict:
    """A widget view plus what a notebook shows without a kernel (nbval compares these)."""
    bundle = {"text/plain": plain, "text/html": html}
    if widget._model_id is not None:
        bundle["application/vnd.jupyter.widget-view+json"] = {
            "version_major": 2,
            "version_minor": 0,
            "model_id": widget._model_id,
        }
    return bundle
