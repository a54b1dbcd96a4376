"""The Python API: :func:`ask` and the one chat path every front end goes through."""
from __future__ import annotations

import sys
from collections.abc import Callable

from . import errors
from .core.events import Event, Notice
from .core.reply import Reply

_catalog = None


def _session():
    from . import session

    return session


def catalog():
    """The session's model catalogue (created on first use)."""
    global _catalog
    if _catalog is None:
        from .core.catalog import Catalog

        _catalog = Catalog(_session())
    return _catalog


def in_kernel() -> bool:
    """True inside a Jupyter kernel (where rich display reaches a front end)."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


def ask(
    prompt: str | bytes,
    *,
    model: str | None = None,
    think: bool | None = None,
    system: str | None = None,
    display: bool | None = None,
    images=None,
    **params,
) -> Reply:
    """Send ``prompt`` to a model and return its :class:`Reply` (streamed, then assembled).

    ``model``, ``think``, ``temperature``, ``max_tokens`` and the rest default to
    ``jupyter_llm.session``; other keyword arguments go into the request body as they are.
    ``tools=[...]`` lets the model call Python functions (see :func:`jupyter_llm.tool`),
    at most ``max_tool_rounds`` rounds; ``confirm=True`` (or a callable) asks before each call.
    ``images=[...]`` (file paths, bytes, PIL images, matplotlib figures) go to a vision model,
    each downscaled to about a megapixel.
    ``display=None`` renders the reply as it streams when running in a kernel. A ``bytes``
    prompt is decoded as UTF-8; bytes that are not UTF-8 become U+FFFD, with a note.

    Example::

        reply = jupyter_llm.ask("Summarise the iris dataset in one line.", model="qwen3-32b", think=False)
        print(reply.content, reply.usage.total_tokens)
    """
    from .core.messages import as_text, build_messages

    prompt, note = as_text(prompt)
    if not prompt.strip():
        raise errors.ConfigError("The prompt is empty: give the model something to answer.")
    if note:
        _note(note)
    messages = build_messages(prompt, system=system)
    if images:
        from .core.images import user_content

        messages[-1]["content"] = user_content(prompt, images)
    return chat(messages, model=model, think=think, display=display, **params)


def chat(
    messages: list[dict],
    *,
    model: str | None = None,
    think: bool | None = None,
    display: bool | None = None,
    on_event: Callable[[Event], None] | None = None,
    tools=None,
    max_tool_rounds: int | None = None,
    confirm=None,
    **params,
) -> Reply:
    """Run one streamed chat request for ``messages``; the shared path of ask, magics and panels.

    With ``tools`` (Tool objects, functions or registered names), the model's tool calls
    are run and their results sent back, one streamed request per round, until it answers
    or ``max_tool_rounds`` rounds of calls have run. ``confirm`` (True, or a callable
    taking the ToolCall and returning a bool) asks before each call.
    """
    from .core.messages import apply_thinking

    session = _session()
    model = model or session.model or _default_model()
    think = session.think if think is None else think
    info = catalog().lookup(model)
    body = {"model": model}
    for name in ("temperature", "max_tokens"):
        value = params.pop(name, None)
        value = getattr(session, name) if value is None else value
        if value is not None:
            body[name] = value
    body.update(params)
    _check_max_tokens(body.get("max_tokens"), info)
    _check_prompt(messages, info, body.get("max_tokens"))
    if display is None:
        display = in_kernel()
    if tools and all(isinstance(t, dict) for t in tools):
        # Raw OpenAI tool specs: sent as they are, and the caller runs the calls (no loop).
        body["tools"], tools = tools, None
    if not tools:
        body["messages"] = _clean(messages)
        notice = apply_thinking(body, info, think, soft=session.soft_think_switch)
        return _round(body, model, info, think, notice, messages, display, on_event)
    return _tool_loop(body, model, info, think, messages, display, on_event, tools, max_tool_rounds, confirm)


def _tool_loop(body, model, info, think, messages, display, on_event, tools, max_tool_rounds, confirm) -> Reply:
    """Rounds of request, tool calls, results, until the model answers in text."""
    from .core.messages import apply_thinking
    from .core.toolloop import assistant_message
    from .core.tools import resolve

    session = _session()
    tools = resolve(tools, _user_namespace())
    if info.tools is False:
        raise errors.CapabilityError(
            f"{model} cannot call functions (no function calling on the gateway); pick a model with "
            f"tools in %llm_models, e.g. a qwen3-* model.")
    rounds = session.max_tool_rounds if max_tool_rounds is None else max_tool_rounds
    confirm = session.confirm_tools if confirm is None else confirm
    body["tools"] = [t.schema for t in tools]
    conversation = list(messages)
    results: list = []
    usage = []
    elapsed = 0.0
    for number in range(rounds + 1):
        request = dict(body, messages=_clean(conversation))
        notice = apply_thinking(request, info, think, soft=session.soft_think_switch)
        reply = _round(request, model, info, think, notice, conversation, display, on_event,
                       keep=lambda r, emit: _run_round(r, emit, tools, confirm, number, rounds))
        usage.append(reply.usage)
        elapsed += reply.elapsed or 0.0
        conversation.append(assistant_message(reply) if reply.tool_calls
                            else {"role": "assistant", "content": reply.content})
        done = reply.tool_results
        results += done
        if not done:
            break
        conversation += [r.message for r in done]
    reply.messages = conversation
    reply.tool_results = results
    reply.usage = _total(usage)
    reply.elapsed = elapsed
    return reply


def _run_round(reply, emit, tools, confirm, number, rounds) -> None:
    from .core.toolloop import run_calls

    if not reply.tool_calls or reply.finish_reason is None:
        return
    if number >= rounds:
        text = (f"Stopped after {rounds} tool round(s) (max_tool_rounds): the model still asked for "
                f"{', '.join(c.name for c in reply.tool_calls)}. Raise max_tool_rounds to let it go on.")
        _note(text)
        return
    reply.tool_results = run_calls(reply.tool_calls, tools, confirm=confirm, round=number, on_event=emit)


def _total(usages):
    from .core.events import Usage

    usages = [u for u in usages if u is not None]
    if not usages:
        return None
    reasoning = [u.reasoning_tokens for u in usages if u.reasoning_tokens is not None]
    return Usage(
        prompt_tokens=sum(u.prompt_tokens for u in usages),
        completion_tokens=sum(u.completion_tokens for u in usages),
        total_tokens=sum(u.total_tokens for u in usages),
        reasoning_tokens=sum(reasoning) if reasoning else None,
    )


def _user_namespace() -> dict | None:
    # `--tools name` may name a plain function defined in the notebook, not yet decorated.
    if "IPython" not in sys.modules:
        return None
    from IPython import get_ipython

    shell = get_ipython()
    return shell.user_ns if shell is not None else None


def _round(body, model, info, think, notice, messages, display, on_event, keep=None) -> Reply:
    """One streamed request; ``keep(reply, emit)`` runs on the assembled reply before it is
    shown, and may emit events of its own (tool calls running) into the live view."""
    from .core.stream import ReplyBuilder, events
    from .core.transport import default_transport

    session = _session()
    endpoint = session.endpoint(model)
    transport = default_transport()
    from .core.cassette import replaying

    if not replaying():  # a replay never needs the SDK: its import is most of a replayed cell's time
        # Create the client (and import the SDK) first, so time to first token measures the gateway.
        transport.client(endpoint, timeout=session.timeout, headers=session.extra_headers)
    renderer = None
    if display:
        from .display.renderer import ReplyRenderer

        renderer = ReplyRenderer()
        renderer.start(model=model)
    builder = ReplyBuilder(model)
    builder.reply.messages = messages

    def emit(event: Event) -> None:
        builder.add(event)
        if renderer is not None:
            renderer.on_event(event)
        if on_event is not None:
            on_event(event)

    if notice:
        emit(Notice(notice))
    expect_thinking = bool(info.thinking) and think is not False
    error: BaseException | None = None
    chunks = None
    try:
        chunks = transport.chat_stream(
            endpoint,
            body,
            timeout=session.timeout,
            max_retries=session.max_retries,
            headers=session.extra_headers,
            secrets=session.secrets(),
            on_notice=lambda text: emit(Notice(text)),
        )
        for event in events(chunks, expect_thinking=expect_thinking):
            emit(event)
        if builder.reply.finish_reason is None:
            error = errors.IncompleteReply(
                f"The stream from {model} ended before the model finished (no finish reason): "
                f"the gateway or the model server dropped it. The partial text is kept in .reply; re-run to retry."
            )
    except errors.ModelNotFound as exc:
        error = _with_models(exc)
    except (errors.LLMError, KeyboardInterrupt) as exc:
        error = exc
    finally:
        if chunks is not None:
            # Closes the HTTP response now, so an interrupted reply stops costing the gateway.
            chunks.close()
    reply = builder.finish()
    from .core.usage import record

    record(model, reply.usage, failed=error is not None)
    if keep is not None and error is None:
        try:
            keep(reply, emit)
        except KeyboardInterrupt as exc:
            error = exc
    if renderer is not None:
        renderer.finish(reply, error=error)
    if error is not None:
        error.reply = reply
        raise error
    return reply


def _note(text: str) -> None:
    print(f"jupyter-llm: {text}", file=sys.stderr)


def _clean(messages: list[dict]) -> list[dict]:
    """Copies of ``messages`` whose text can be sent as UTF-8 (lone surrogates replaced), noted once."""
    from .core.messages import as_text

    notes = []

    def text(value: str) -> str:
        value, note = as_text(value)
        notes.extend([note] if note else [])
        return value

    out = []
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            message = dict(message, content=text(content))
        elif isinstance(content, list):
            parts = [dict(p, text=text(p["text"])) if isinstance(p, dict) and isinstance(p.get("text"), str) else p
                     for p in content]
            message = dict(message, content=parts)
        out.append(message)
    if notes:
        _note(notes[0])
    return out


def _check_max_tokens(max_tokens, info) -> None:
    # The server would refuse these anyway, after the prompt went over the wire; say why now.
    if max_tokens is None:
        return
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise errors.ConfigError(f"max_tokens must be a whole number of tokens, 1 or more, not {max_tokens!r}.")
    if not info.context or max_tokens < info.context:
        return
    raise errors.ContextTooLong(
        f"max_tokens={max_tokens:,} leaves no room for the prompt in {info.name}'s context of "
        f"{info.context:,} tokens (prompt and reply share it). Lower it (--max-tokens N, or "
        f"%llm_config max_tokens=none), or use a model with a longer context.",
        limit=info.context,
        requested=max_tokens,
    )


def _check_prompt(messages, info, max_tokens) -> None:
    from .core.images import check_vision
    from .core.tokens import context_warning

    check_vision(messages, info)
    warning = context_warning(messages, info.context, max_tokens, model=info.name)
    if warning:
        _note(warning)


def _with_models(exc: errors.ModelNotFound) -> errors.ModelNotFound:
    try:
        catalog().refresh()
        names = catalog().chat_models()
    except errors.LLMError:
        return exc
    # The gateway refused this very name, so suggesting it back would send the user in circles.
    close = [n for n in catalog().close_matches(exc.model) if n != exc.model] if names else []
    exc.available = names
    listing = ", ".join(names)
    hint = f" Did you mean {', '.join(repr(n) for n in close[:3])}?" if close else ""
    exc.args = (f"{exc.message}{hint} Models served: {listing}.",)
    return exc


def _default_model() -> str:
    names = catalog().chat_models()
    if not names:
        raise errors.ConfigError(
            "No model given and the gateway lists no chat model. Pass -m MODEL or set "
            "%llm_config model=NAME."
        )
    model = names[0]
    print(f"jupyter-llm: using {model} (set a default with %llm_config model=NAME)", file=sys.stderr)
    _session().model = model
    return model
