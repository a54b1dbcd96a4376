"""What a front end shows once a cell's iopub messages are applied, and whether a text is in it."""
from __future__ import annotations

import html
import json
import re


class FinalState:
    """What a front end shows once every message is applied: outputs and widget models.

    Replacing updates (update_display_data) are kept as raw bytes, last one wins, so a
    baseline sending a gigabyte of re-displays does not have to be parsed as it arrives.
    """

    _DISPLAY_ID = re.compile(rb'"display_id"\s*:\s*"([^"]+)"')

    def __init__(self):
        self.outputs: list[dict] = []  # display_data/stream/execute_result contents, in order
        self.updates: dict[str, bytes] = {}
        self.widgets: dict[str, dict] = {}  # comm_id -> state, in creation order

    def add(self, msg_type: str, content: bytes) -> None:
        if msg_type == "update_display_data":
            match = self._DISPLAY_ID.search(content)
            if match:
                self.updates[match.group(1).decode()] = content
            return
        data = json.loads(content)
        if msg_type in ("display_data", "execute_result", "stream", "error"):
            self.outputs.append(dict(data, msg_type=msg_type))
        elif msg_type == "clear_output":
            self.outputs.clear()
        elif msg_type == "comm_open":
            self.widgets[data["comm_id"]] = dict(data.get("data", {}).get("state", {}))
        elif msg_type == "comm_close":
            self.widgets.pop(data["comm_id"], None)  # a closed model's views go blank
        elif msg_type == "comm_msg":
            inner = data.get("data", {})
            if inner.get("method") == "update" and data["comm_id"] in self.widgets:
                self.widgets[data["comm_id"]].update(inner.get("state", {}))

    def output_texts(self) -> list[str]:
        """The text of every output as shown: Markdown, else HTML, else plain text."""
        texts = []
        for out in self.outputs:
            if out["msg_type"] == "stream":
                texts.append(out.get("text", ""))
                continue
            bundle = out.get("data", {})
            display_id = out.get("transient", {}).get("display_id")
            if display_id in self.updates:
                bundle = json.loads(self.updates[display_id]).get("data", bundle)
            for mime in ("text/markdown", "text/html", "text/plain"):
                if mime in bundle:
                    texts.append(str(bundle[mime]))
                    break
        return texts

    def widget_texts(self) -> list[str]:
        texts = []
        for state in self.widgets.values():
            for value in state.values():
                if isinstance(value, str):
                    texts.append(value)
                elif isinstance(value, list):
                    texts.extend(v for v in value if isinstance(v, str))
        return texts

    def where(self, text: str) -> list[str]:
        """Where ``text`` is shown in full: "outputs" (plain display outputs), "widgets", both, or neither.

        Compared as words in order, unbroken: a renderer may show Markdown as HTML or
        escape it, which changes the markup but must not lose or reorder a word.
        """
        wanted = " ".join(_words(text))
        parts = {"outputs": self.output_texts(), "widgets": self.widget_texts()}
        return [name for name, texts in parts.items() if wanted in " ".join(_words("\n".join(texts)))]


def _words(text: str) -> list[str]:
    return re.findall(r"\w+", html.unescape(re.sub(r"<[^>]*>", " ", text)))
