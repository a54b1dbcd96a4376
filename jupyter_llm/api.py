"""The Python API: :func:`ask` and the one chat path every front end goes through."""
from __future__ import annotations

import sys
from collections.abc import Callable

from . import errors
from .events import Event, Notice
from .reply import Reply

_catalog = None


def _session():
    from . import session

    return session


def catalog():
    """The session's model catalogue (created on first use)."""
    global _catalog
    if _catalog is None:
        from .catalog import Catalog

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
    **params,
) -> Reply:
    """Send ``prompt`` to a model and return its :class:`Reply` (streamed, then assembled).

    ``model``, ``think``, ``temperature``, ``max_tokens`` and the rest default to
    ``jupyter_llm.session``; other keyword arguments go into the request body as they are.
    ``display=None`` renders the reply as it streams when running in a kernel. A ``bytes``
    prompt is decoded as UTF-8; bytes that are not UTF-8 become U+FFFD, with a note.

    Example::

        reply = jupyter_llm.ask("Summarise the iris dataset in one line.", model="qwen3-32b", think=False)
        print(reply.content, reply.usage.total_tokens)
    """
    from .chat import as_text, build_messages

    prompt, note = as_text(prompt)
    if not prompt.strip():
        raise errors.ConfigError("The prompt is empty: give the model something to answer.")
    if note:
        _note(note)
    messages = build_messages(prompt, system=system)
    return chat(messages, model=model, think=think, display=display, **params)


def chat(
    messages: list[dict],
    *,
    model: str | None = None,
    think: bool | None = None,
    display: bool | None = None,
    on_event: Callable[[Event], None] | None = None,
    **params,
) -> Reply:
    """Run one streamed chat request for ``messages``; the shared path of ask, magics and panels."""
    from .chat import apply_thinking
    from .stream import ReplyBuilder, events
    from .transport import default_transport

    session = _session()
    model = model or session.model or _default_model()
    think = session.think if think is None else think
    info = catalog().lookup(model)
    body = {"model": model, "messages": _clean(messages)}
    for name in ("temperature", "max_tokens"):
        value = params.pop(name, None)
        value = getattr(session, name) if value is None else value
        if value is not None:
            body[name] = value
    body.update(params)
    _check_max_tokens(body.get("max_tokens"), info)
    notice = apply_thinking(body, info, think, soft=session.soft_think_switch)

    endpoint = session.endpoint(model)
    transport = default_transport()
    # Create the client (and import the SDK) first, so time to first token measures the gateway.
    transport.client(endpoint, timeout=session.timeout, headers=session.extra_headers)
    renderer = None
    if display if display is not None else in_kernel():
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
    from .chat import as_text

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
