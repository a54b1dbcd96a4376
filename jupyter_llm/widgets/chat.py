"""The chat panel: a conversation with one model, streamed into the notebook.

The transcript is kept as OpenAI message dicts (``panel.messages``), so it can be sent
again, exported to a ``Conversation`` or written out as notebook cells. Replies run as
asyncio tasks on the kernel's loop (see ``background.py``): the panel's callbacks start
a task and return, so Stop and every other widget keep working while text streams.
"""
from __future__ import annotations

import base64
import json
import os
import time
from html import escape
from pathlib import Path

import ipywidgets as widgets

from .. import errors
from ..api import Conversation
from ..core.background import BackgroundChat
from ..core.files import write_atomic
from ..core.messages import user_turn
from ..core.session import catalog, current
from ._common import badges, badges_html, chat_models, css, fallback_bundle, running_loop
from ._reply_box import ReplyBox

_WIDE = widgets.Layout(width="100%")


class ChatPanel(widgets.VBox):
    """A chat panel: model picker with capability badges, thinking switch, system prompt,
    temperature, a streaming transcript, Send (Enter or Shift+Enter), Stop, Regenerate,
    Clear, an image attachment for vision models, and export.

    ``send(text)`` returns the reply's asyncio task; ``await panel.send("...")`` waits for it.
    ``messages`` is the transcript as OpenAI message dicts.

    Example::

        chat = jupyter_llm.ChatPanel(model="qwen3-32b")
        chat                                   # shows the panel
        await chat.send("Name three rivers.")  # or type in the panel and press Enter
        chat.messages[-1]["content"]
    """

    def __init__(self, model: str | None = None, *, system: str | None = None, think: bool | None = None,
                 tools=None, **kwargs):
        session = current()
        self.messages: list[dict] = []
        self.tools = tools
        self._task = None
        self._job = None
        names, problem = chat_models()
        model = model or session.model or (catalog().default_model("chat") if names else None)
        if model and model not in names:
            names = [model, *names]
        self.model = widgets.Dropdown(options=names, value=model, description="Model", layout=widgets.Layout(width="280px"))
        self.badges = widgets.HTML()
        think = session.think if think is None else think
        self.think = widgets.Checkbox(value=think is not False, description="Think", indent=False,
                                      layout=widgets.Layout(width="80px"))
        self.temperature = widgets.Text(
            value="" if session.temperature is None else f"{session.temperature:g}", placeholder="default",
            description="Temperature", style={"description_width": "initial"}, layout=widgets.Layout(width="170px"))
        self.system = widgets.Textarea(value=system or "", placeholder="System prompt (optional)",
                                       rows=2, layout=_WIDE)
        self.transcript = widgets.VBox(_dom_classes=("jllm-transcript",))
        self.prompt = widgets.Text(placeholder="Message: Enter or Shift+Enter sends", layout=_WIDE, _dom_classes=("jllm-prompt",),
                                   continuous_update=True)
        self.attach = widgets.FileUpload(accept="image/*", multiple=False, description="Image")
        self.send_button = widgets.Button(description="Send", button_style="primary", icon="paper-plane")
        self.stop_button = widgets.Button(description="Stop", button_style="danger", icon="stop", disabled=True)
        self.regenerate_button = widgets.Button(description="Regenerate", icon="redo")
        self.clear_button = widgets.Button(description="Clear", icon="trash")
        self.export_button = widgets.Button(description="Export", icon="file-export",
                                            tooltip="Write this conversation to a new notebook next to this one")
        self.status = widgets.HTML(escape(problem) if problem else "")

        self.model.observe(self._model_changed, "value")
        self.prompt.on_msg(self._prompt_msg)
        self.send_button.on_click(lambda _: self.send())
        self.stop_button.on_click(lambda _: self.stop())
        self.regenerate_button.on_click(lambda _: self.regenerate())
        self.clear_button.on_click(lambda _: self.clear())
        self.export_button.on_click(lambda _: self._export_clicked())
        self._model_changed()

        header = widgets.HBox((self.model, self.think, self.temperature, self.badges))
        buttons = widgets.HBox((self.send_button, self.stop_button, self.regenerate_button, self.clear_button,
                                self.export_button, self.attach))
        children = (css(), header, self.system, self.transcript, self.prompt, buttons, self.status)
        super().__init__(children, _dom_classes=("jllm-panel", "jllm-chat"), **kwargs)

    # -- what a user does -------------------------------------------------------------

    def send(self, text: str | None = None):
        """Send ``text`` (default: what is typed in the box) and stream the reply; returns its task."""
        text = self.prompt.value if text is None else text
        if self.busy:
            self._say("A reply is still streaming: wait for it or press Stop.")
            return None
        images = [self._image_part(item) for item in self.attach.value]
        if not text.strip() and not images:
            self._say("Type a message first.")
            return None
        self.messages.append(user_turn(text, images))
        self._show_user(text, [item["name"] for item in self.attach.value])
        self.prompt.value = ""
        self.attach.value = ()
        return self._start()

    def stop(self) -> None:
        """Stop the reply in flight; the text so far stays in the transcript."""
        if self._job is not None:
            self._job.stop()

    def regenerate(self):
        """Ask again for the last reply (it is replaced); returns the new reply's task."""
        if self.busy:
            self._say("A reply is still streaming: wait for it or press Stop.")
            return None
        last_user = max((i for i, m in enumerate(self.messages) if m["role"] == "user"), default=None)
        if last_user is None:
            self._say("Nothing to regenerate yet.")
            return None
        del self.messages[last_user + 1:]
        if self.transcript.children and "jllm-reply" in self.transcript.children[-1]._dom_classes:
            self.transcript.children = self.transcript.children[:-1]
        return self._start()

    def clear(self) -> None:
        """Forget the conversation (a reply in flight is stopped first)."""
        self.stop()
        self.messages = []
        self.transcript.children = ()
        self._say("")

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    # -- export -----------------------------------------------------------------------

    def to_conversation(self, name: str | None = None):
        """The transcript as a :class:`jupyter_llm.Conversation`, to go on with in code."""
        return Conversation(messages=[dict(m) for m in self.messages], name=name, model=self.model.value,
                            system=self.system.value or None)

    def to_cells(self) -> list[dict]:
        """The transcript as notebook cells (nbformat 4 dicts): each turn a Markdown cell."""
        cells = [_markdown_cell(f"# Chat with {self.model.value}" +
                                (f"\n\n*System:* {self.system.value}" if self.system.value else ""))]
        for message in self.messages:
            text = _text_of(message)
            if message["role"] == "user":
                cells.append(_markdown_cell("**You:**\n\n" + text))
            elif message["role"] == "assistant" and text:
                cells.append(_markdown_cell(f"**{self.model.value}:**\n\n" + text))
        return cells

    def to_notebook(self, path: str | os.PathLike | None = None) -> Path:
        """Write the transcript as a new notebook (atomically) and return its path.

        A kernel cannot add cells to the open notebook from a button (``set_next_input``
        works only as the answer to a cell run), so export writes a notebook next to it.
        """
        path = Path(path) if path else Path(f"chat-{time.strftime('%Y%m%d-%H%M%S')}.ipynb")
        notebook = {"cells": self.to_cells(), "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
        return write_atomic(path, json.dumps(notebook, ensure_ascii=False, indent=1))

    def _export_clicked(self) -> None:
        if not self.messages:
            self._say("Nothing to export yet: the conversation is empty. Send a message first.")
            return
        try:
            path = self.to_notebook()
        except OSError as exc:
            self._say(f"Could not write the notebook: {exc}", error=True)
            return
        self._say(f"Wrote {path} ({len(self.messages)} messages).")

    # -- inside -----------------------------------------------------------------------

    def _start(self):
        loop = running_loop()
        box = ReplyBox()
        box.note(f"{self.model.value} is answering…")
        self.transcript.children = (*self.transcript.children, box.box)
        if not self.model.value:
            box.finish(None, errors.ConfigError("No model to ask: the gateway listed none. Check the settings "
                                                "(%llm_config) and pick a model."))
            return None
        options = dict(model=self.model.value, think=self._think())
        try:
            temperature = self.temperature.value.strip()
            if temperature:
                options["temperature"] = float(temperature)
        except ValueError:
            box.finish(None, errors.ConfigError(f"Temperature must be a number, not {self.temperature.value!r}."))
            return None
        if self.tools:
            options.update(tools=self.tools, confirm=False)
        system = [{"role": "system", "content": self.system.value}] if self.system.value.strip() else []
        self._job = BackgroundChat(system + self.messages, on_events=box.feed, **options)
        self._task = loop.create_task(self._run(self._job, box))
        return self._task

    async def _run(self, job, box: ReplyBox):
        self._set_busy(True)
        reply, error = None, None
        try:
            reply = await job.run()
        except errors.LLMError as exc:
            reply, error = exc.reply, exc
        except Exception as exc:  # shown in the panel: a traceback would land in another cell
            error = exc
        finally:
            self._set_busy(False)
        box.finish(reply, error)
        if reply is not None and (reply.content or reply.tool_results):
            sent = len(job.messages)
            if reply.tool_results and len(reply.messages) > sent:
                self.messages.extend(reply.messages[sent:])
            else:
                self.messages.append({"role": "assistant", "content": reply.content})
        return reply

    def _set_busy(self, busy: bool) -> None:
        self.stop_button.disabled = not busy
        self.send_button.disabled = busy
        self.regenerate_button.disabled = busy

    def _think(self) -> bool | None:
        info = catalog()[self.model.value]
        return self.think.value if info.thinking_switch else None

    def _model_changed(self, change=None) -> None:
        if not self.model.value:
            return
        info = catalog()[self.model.value]
        self.badges.value = badges_html(info)
        self.think.layout.display = None if info.thinking_switch else "none"
        self.attach.layout.display = None if info.vision else "none"

    def _prompt_msg(self, _widget, content, _buffers) -> None:
        if content.get("event") == "submit":
            self.send()

    def _show_user(self, text: str, attachments: list[str]) -> None:
        extra = "".join(f" <em>[image: {escape(name)}]</em>" for name in attachments)
        bubble = widgets.HTML(f"<b>You:</b> {escape(text)}{extra}", _dom_classes=("jllm-user",))
        self.transcript.children = (*self.transcript.children, bubble)

    def _image_part(self, item) -> dict:
        # Sent as uploaded: the browser already limits what a user picks, and Pillow is optional.
        data = base64.b64encode(bytes(item["content"])).decode()
        return {"type": "image_url", "image_url": {"url": f"data:{item['type'] or 'image/png'};base64,{data}"}}

    def _say(self, text: str, error: bool = False) -> None:
        style = "color: var(--jp-error-color1, #b00020)" if error else "color: var(--jp-ui-font-color2, grey)"
        self.status.value = f'<span style="{style}">{escape(text)}</span>' if text else ""

    def _repr_mimebundle_(self, **kwargs):
        model = self.model.value or "no model"
        caps = ", ".join(badges(catalog()[model])) if self.model.value else ""
        about = f"{model} ({caps})" if caps else model
        plain = (f"Chat panel: {about}. Interactive in JupyterLab with a running kernel; "
                 f"the transcript is in .messages.")
        html = f"<p><b>Chat panel</b>: {escape(about)}. <em>Run the notebook to use it.</em></p>"
        return fallback_bundle(self, plain, html)


def _text_of(message: dict) -> str:
    content = message.get("content") or ""
    if isinstance(content, list):
        parts = [p.get("text", "") if p.get("type") == "text" else "*[image]*" for p in content]
        return "\n\n".join(p for p in parts if p)
    return content


def _markdown_cell(source: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": source}
