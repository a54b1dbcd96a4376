"""Running the model's tool calls: validate, confirm, call (sync or async), format, reply.

Nothing here raises for a bad call: invalid JSON, arguments that break the schema, an
unknown name, a declined confirmation and an exception in the tool all become a
:class:`ToolResult` with ``error`` set, whose text goes back to the model so it can
correct itself.
"""
from __future__ import annotations

import asyncio
import inspect
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from . import schema
from .events import ToolStatus
from .reply import ToolCall
from .tools import Tool

#: Characters of one result sent back to the model; more would crowd out the context.
RESULT_LIMIT = 8000
#: Rows of a DataFrame result shown to the model.
FRAME_ROWS = 20
_WORKERS = 8


@dataclass(slots=True)
class ToolResult:
    """The outcome of one tool call: the text the model receives, and how it went."""

    call: ToolCall
    content: str
    error: str | None = None
    value: object = None
    seconds: float = 0.0
    round: int = 0

    @property
    def status(self) -> str:
        return "failed" if self.error else "done"

    @property
    def message(self) -> dict:
        """The ``tool`` message that carries this result back to the model."""
        return {"role": "tool", "tool_call_id": self.call.id, "name": self.call.name, "content": self.content}

    def __repr__(self) -> str:
        return f"ToolResult({self.call.name!r}, {self.status}, {self.content[:40]!r})"


def format_result(value, limit: int = RESULT_LIMIT) -> str:
    """The text the model sees: str as is, DataFrame as a bounded table, else ``_repr_llm_`` or JSON."""
    if isinstance(value, str):
        text = value
    elif hasattr(value, "_repr_llm_"):
        text = str(value._repr_llm_())
    elif type(value).__name__ == "DataFrame" and hasattr(value, "to_markdown"):
        text = _frame(value)
    else:
        try:
            text = json.dumps(value, ensure_ascii=False, default=_default)
        except (TypeError, ValueError):
            text = repr(value)
    if len(text) > limit:
        text = text[:limit] + f"\n… [truncated: {len(text) - limit:,} more characters not shown]"
    return text


def _frame(frame) -> str:
    shown = frame.head(FRAME_ROWS)
    try:
        text = shown.to_markdown()
    except ImportError:  # tabulate is optional for pandas
        text = shown.to_string()
    if len(frame) > FRAME_ROWS:
        text += f"\n… [{len(frame) - FRAME_ROWS:,} more rows not shown; {len(frame):,} rows in all]"
    return text


def _default(value):
    # numpy scalars, dates, sets: what analysis functions commonly return.
    if hasattr(value, "item"):
        return value.item()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if hasattr(value, "model_dump"):
        return value.model_dump()
    return repr(value)


def run_calls(
    calls: list[ToolCall],
    tools: list[Tool],
    *,
    confirm: Callable[[ToolCall], bool] | bool | None = None,
    round: int = 0,
    on_event: Callable[[ToolStatus], None] | None = None,
) -> list[ToolResult]:
    """Run one turn's calls (confirmations first, in order; then concurrently) and return results in call order.

    ``on_event`` hears each call start (``running``) and end (``done`` or ``failed``),
    always from the calling thread, so a display need not be thread-safe.
    """
    emit = on_event or (lambda status: None)
    by_name = {t.name: t for t in tools}
    pending: list[tuple[int, ToolCall, Tool, dict]] = []
    results: list[ToolResult | None] = [None] * len(calls)
    for i, call in enumerate(calls):
        known = by_name.get(call.name)
        problem = None
        if known is None:
            problem = f"unknown tool {call.name!r}; available: {', '.join(by_name) or 'none'}"
        else:
            problem = call.arguments_error or schema.problem(call.arguments, known.parameters, label="arguments",
                                                             closed=True)
        if problem is None and (known.confirm or confirm) and not _confirmed(call, confirm):
            problem = "the user declined this call"
        if problem is not None:
            results[i] = ToolResult(call, f"Error: {problem}", error=problem, round=round)
            emit(_status(i, results[i]))
        else:
            pending.append((i, call, known, call.arguments))
    for i, call, _, _ in pending:
        emit(ToolStatus(i, call.name, "running"))
    if len(pending) == 1:
        i, call, known, args = pending[0]
        results[i] = _run_one(call, known, args, round)
        emit(_status(i, results[i]))
    elif pending:
        # Independent calls of one turn: slow tools (HTTP, queries) overlap.
        with ThreadPoolExecutor(min(_WORKERS, len(pending))) as pool:
            futures = {pool.submit(_run_one, call, known, args, round): i for i, call, known, args in pending}
            for future in as_completed(futures):
                i = futures[future]
                results[i] = future.result()
                emit(_status(i, results[i]))
    return results


def _status(index: int, result: ToolResult) -> ToolStatus:
    return ToolStatus(index, result.call.name, result.status, result.seconds, result.content)


def _confirmed(call: ToolCall, confirm) -> bool:
    if callable(confirm):
        return bool(confirm(call))
    try:
        answer = input(f"Run {call.name}({call.arguments_json})? [y/N] ")
    except (EOFError, OSError):  # no stdin (a script, nbclient without stdin): nobody said yes
        return False
    return answer.strip().lower() in ("y", "yes")


def _run_one(call: ToolCall, known: Tool, args: dict, round: int) -> ToolResult:
    start = time.monotonic()
    try:
        value = known.function(**args)
        if inspect.isawaitable(value):
            value = _await(value)
        content = format_result(value)
    except Exception as exc:  # the tool's own bug goes back to the model, not up the stack
        problem = f"{type(exc).__name__}: {exc}"
        return ToolResult(call, f"Error: {problem}", error=problem, seconds=time.monotonic() - start, round=round)
    return ToolResult(call, content, value=value, seconds=time.monotonic() - start, round=round)


def _await(awaitable):
    async def wrapped():
        return await awaitable

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(wrapped())
    # A running loop (IPython's, or a panel's): asyncio.run cannot nest, so use a fresh thread.
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, wrapped()).result()


def assistant_message(reply) -> dict:
    """The assistant turn that asked for the calls, as the model must see it again."""
    return {
        "role": "assistant",
        "content": reply.content or None,
        "tool_calls": [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json}}
            for c in reply.tool_calls
        ],
    }
