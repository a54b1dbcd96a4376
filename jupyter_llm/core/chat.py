"""The one chat path: a :class:`ChatRequest` in, events out, a :class:`Reply` back.

Every front end goes through :func:`chat` (``ask``, ``%%llm``, conversations, panels,
``map``). It renders nothing: whoever shows the reply passes ``on_event``. Each round is one
streamed request; with tools, the calls the model asks for run between rounds, until it
answers in text or ``max_tool_rounds`` rounds of calls have run. A round that completes
ends with a :class:`RoundEnd` event carrying that round's reply.
"""
from __future__ import annotations

import asyncio
from collections.abc import Callable

from .. import errors
from . import call_log
from .cassette_transport import last_source
from .client import Client, take_options
from .events import Event, Notice, RoundEnd, Usage
from .notes import note
from .reply import Reply
from .request import ChatRequest, build
from .session import catalog, current
from .stream import ReplyBuilder, events
from .toolloop import assistant_message, run_calls
from .usage import record

OnEvent = Callable[[Event], None]


def send(messages: list[dict], *, on_event: OnEvent | None = None, session=None, **options) -> Reply:
    """Build the request for ``messages`` from keyword options and run it: the usual way in.

    ``options`` are those of :func:`jupyter_llm.ask` (``model``, ``think``, ``temperature``,
    ``tools``, ...); the transport options among them (``timeout``, ``max_retries``,
    ``extra_headers``) go to the client and never into the body.

    Example::

        reply = send([{"role": "user", "content": "Name a prime."}], model="qwen3-32b", max_retries=0)
    """
    session = session or current()
    client = Client(session, **take_options(options))
    request = build(session, catalog(session), messages, **options)
    return chat(request, client=client, on_event=on_event)


def chat(request: ChatRequest, *, client: Client, on_event: OnEvent | None = None) -> Reply:
    """Run ``request``: one streamed round, or rounds of tool calls until the model answers."""
    if not request.tools:
        return _round(request, request.messages, client, on_event)
    conversation = list(request.messages)
    results: list = []
    usage = []
    elapsed = 0.0
    rounds = request.max_tool_rounds
    for number in range(rounds + 1):
        reply = _round(request, conversation, client, on_event, tools_round=(number, rounds))
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


async def chat_async(request: ChatRequest, *, client: Client, stream: bool = True) -> Reply:
    """:func:`chat` from a coroutine, for a batch's rows: no events shown, the reply back.

    The chunks are read from the async transport and turned into the reply when the stream
    ends, so a broken stream keeps its partial text as :func:`chat` does. ``stream=False``
    asks for the reply whole (:mod:`.whole_reply`): the same reply for less client work. A
    request with tools runs in a worker thread: its tools are plain functions, and may block.
    """
    if request.tools:
        return await asyncio.to_thread(chat, request, client=client)
    messages = request.messages
    body, notice = request.body(messages)
    builder = ReplyBuilder(request.model)
    builder.reply.messages = messages
    if notice:
        builder.add(Notice(notice))
    received: list[dict] = []
    error: BaseException | None = None
    source = "live"
    chunks = None
    try:
        chunks = await client.chat_async(body, stream=stream)
        source = last_source()
        async for chunk in chunks:
            received.append(chunk)
    except errors.ModelNotFound as exc:
        error = await asyncio.to_thread(_with_models, exc, client)  # it asks the gateway for its models
    except errors.LLMError as exc:
        error = exc
    finally:
        if chunks is not None:
            await chunks.aclose()
    for event in events(received, opens_thinking=request.opens_thinking, tools=request.offers_tools):
        builder.add(event)
    if error is None and builder.reply.finish_reason is None:
        error = _incomplete(request)
    reply = builder.finish()
    record(request.model, reply.usage, failed=error is not None)
    _log(request, body, reply, error, source, client.session)
    if error is not None:
        error.reply = reply
        raise error
    return reply


def _incomplete(request: ChatRequest) -> errors.IncompleteReply:
    return errors.IncompleteReply(
        f"The stream from {request.model} ended before the model finished (no finish reason): "
        f"the gateway or the model server dropped it. The partial text is kept in .reply; re-run to retry.")


def _round(request: ChatRequest, messages: list[dict], client: Client, on_event: OnEvent | None,
           tools_round: tuple[int, int] | None = None) -> Reply:
    """One streamed request; with ``tools_round``, the calls it asks for run before it ends."""
    body, notice = request.body(messages)
    client.prepare(request.model)
    builder = ReplyBuilder(request.model)
    builder.reply.messages = messages
    source = "live"

    def emit(event: Event) -> None:
        builder.add(event)
        if on_event is not None:
            on_event(event)

    if notice:
        emit(Notice(notice))
    error: BaseException | None = None
    chunks = None
    try:
        chunks = client.chat(body, on_notice=lambda text: emit(Notice(text)))
        source = last_source()
        for event in events(chunks, opens_thinking=request.opens_thinking, tools=request.offers_tools):
            emit(event)
        if builder.reply.finish_reason is None:
            error = _incomplete(request)
    except errors.ModelNotFound as exc:
        error = _with_models(exc, client)
    except (errors.LLMError, KeyboardInterrupt) as exc:
        error = exc
    finally:
        if chunks is not None:
            # Closes the HTTP response now, so an interrupted reply stops costing the gateway.
            chunks.close()
    reply = builder.finish()
    record(request.model, reply.usage, failed=error is not None)
    if tools_round is not None and error is None:
        try:
            _run_tools(request, reply, emit, *tools_round)
        except KeyboardInterrupt as exc:
            error = exc
    _log(request, body, reply, error, source, client.session)
    if error is not None:
        error.reply = reply
        raise error
    emit(RoundEnd(reply))
    return reply


def _log(request: ChatRequest, body: dict, reply: Reply, error, source: str, session) -> None:
    """File the round in the call log: what was sent, what came back, how, from where."""
    if not session.log:
        return
    reply.log_id = call_log.new_id()
    usage = reply.usage
    params = {k: v for k, v in body.items() if k not in ("messages", "tools", "model")}
    call_log.record({
        "id": reply.log_id, "kind": "chat", "model": request.model, **call_log.where(),
        "params": params, "messages": body.get("messages"),
        "tools": [t.get("function", {}).get("name") for t in body.get("tools") or ()] or None,
        "tool_calls": [{"name": c.name, "arguments": c.arguments_json} for c in reply.tool_calls] or None,
        "content": reply.content, "reasoning": reply.reasoning, "finish_reason": reply.finish_reason,
        "prompt_tokens": usage.prompt_tokens if usage else None,
        "completion_tokens": usage.completion_tokens if usage else None,
        "reasoning_tokens": usage.reasoning_tokens if usage else None,
        "ttft": reply.ttft, "duration": reply.elapsed,
        "error_class": type(error).__name__ if error is not None else None,
        "error_message": str(error) if error is not None else None,
        "source": source, "conversation": request.conversation, "batch": request.batch,
    }, content=session.log_content)


def _run_tools(request: ChatRequest, reply: Reply, emit: OnEvent, number: int, rounds: int) -> None:
    if not reply.tool_calls or reply.finish_reason is None:
        return
    if number >= rounds:
        note(f"Stopped after {rounds} tool round(s) (max_tool_rounds): the model still asked for "
             f"{', '.join(c.name for c in reply.tool_calls)}. Raise max_tool_rounds to let it go on.")
        return
    reply.tool_results = run_calls(reply.tool_calls, request.tools, confirm=request.confirm, round=number,
                                   on_event=emit)


def _total(usages: list[Usage | None]) -> Usage | None:
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


def _with_models(exc: errors.ModelNotFound, client: Client) -> errors.ModelNotFound:
    models = catalog(client.session)
    try:
        models.refresh()
        names = models.chat_models()
    except errors.LLMError:
        return exc
    if not names:
        return exc
    # The gateway refused this very name, so suggesting it back would send the user in circles.
    close = [n for n in models.close_matches(exc.model) if n != exc.model]
    exc.available = names
    hint = f" Did you mean {', '.join(repr(n) for n in close[:3])}?" if close else ""
    # The user's next step (the right name) comes before the gateway's own words.
    served = f"{hint} Models served: {', '.join(names)}.".lstrip()
    exc.args = (exc.message.replace(exc.SEE_MODELS, served, 1),)
    return exc
