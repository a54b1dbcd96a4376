"""Why a replay missed: what differs between a request and the nearest recorded one.

Used by :mod:`jupyter_llm.cassette` to word :class:`~jupyter_llm.errors.CassetteMiss`:
the cell that sent the request, then one phrase per changed field (prompt, model, a
parameter, tools), most telling first.
"""
from __future__ import annotations

import difflib
import json

from . import kernel


def nearest(request: dict, candidates: list[dict]) -> tuple[dict | None, list[str]]:
    """The candidate with the fewest changed fields (then the most similar text), and its changes."""
    if not candidates:
        return None, []
    text = json.dumps(request, sort_keys=True, ensure_ascii=False)

    def distance(old):
        other = json.dumps(old, sort_keys=True, ensure_ascii=False)
        return (len(differences(old, request)), -difflib.SequenceMatcher(None, other, text).quick_ratio())

    best = min(candidates, key=distance)
    return best, differences(best, request)


def differences(old: dict, new: dict) -> list[str]:
    """What changed from recorded request ``old`` to ``new``, one phrase per field."""
    out = []
    for name in sorted(set(old) | set(new), key=lambda n: (n not in ("model", "messages", "input"), n)):
        before, after = old.get(name, _UNSET), new.get(name, _UNSET)
        if before == after:
            continue
        if name == "messages" and isinstance(before, list) and isinstance(after, list):
            out.append(_prompt_change(before, after))
        elif name == "tools" and isinstance(before, list) and isinstance(after, list):
            out.append(f"tools: recorded {_tool_names(before)}, now {_tool_names(after)}"
                       if _tool_names(before) != _tool_names(after) else "tools: a tool's definition changed")
        elif name == "model":
            out.append(f"model: recorded {before!r}, now {after!r}")
        elif before is _UNSET:
            out.append(f"{name}: not set when recorded, now {_short(after)}")
        else:
            out.append(f"{name}: recorded {_short(before)}, now {_short(after)}")
    return out


class _Unset:
    def __repr__(self) -> str:
        return "not set"


_UNSET = _Unset()


def _prompt_change(before: list, after: list) -> str:
    if len(before) != len(after):
        return f"prompt: recorded {len(before)} message(s), now {len(after)}"
    for i, (a, b) in enumerate(zip(before, after)):
        if a == b:
            continue
        role = b.get("role", "?") if isinstance(b, dict) else "?"
        text_a = _content(a)
        text_b = _content(b)
        start = next((j for j, (x, y) in enumerate(zip(text_a, text_b)) if x != y), min(len(text_a), len(text_b)))
        return (f"prompt ({role} message {i + 1}, from character {start + 1}): recorded "
                f"{_excerpt(text_a, start)}, now {_excerpt(text_b, start)}")
    return "prompt: changed"


def _content(message) -> str:
    if not isinstance(message, dict):
        return json.dumps(message, ensure_ascii=False)
    content = message.get("content")
    return content if isinstance(content, str) else json.dumps(message, ensure_ascii=False, sort_keys=True)


def _excerpt(text: str, start: int, width: int = 60) -> str:
    """``text`` whole when short, else a window that opens just before the first difference."""
    begin = 0 if len(text) <= width else max(0, min(start - 15, len(text) - width))
    piece = text[begin:begin + width]
    return repr(("…" if begin else "") + piece + ("…" if begin + width < len(text) else ""))


def _tool_names(tools: list) -> list:
    return [t.get("function", {}).get("name") if isinstance(t, dict) else t for t in tools]


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "…"


def cell() -> str:
    """``cell [5] (`%%llm -m qwq-32b`)`` for the cell running in the kernel, or ``""``."""
    running = kernel.shell()
    if running is None:
        return ""
    history = running.history_manager.input_hist_raw
    if len(history) < 2:
        return ""
    # The running cell is stored before it runs, at the index of its In[n] number.
    lines = [line for line in history[-1].splitlines() if line.strip()]
    first = f" (`{lines[0].strip()[:60]}`)" if lines else ""
    return f"cell [{len(history) - 1}]{first}"
