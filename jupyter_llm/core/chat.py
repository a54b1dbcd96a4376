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
from .stream import Assembler, ReplyBuilder
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
    request, client = prepare(messages, session=session, **options)
    return chat(request, client=client, on_event=on_event)


def prepare(messages: list[dict], *, session=None, **options) -> tuple[ChatRequest, Client]:
    """The request and client :func:`send` would use, for a caller that runs them itself
    (:func:`chat_async` on the batch loop): options are checked here, in the caller's thread."""
    session = session or current()
    client = Client(session, **take_options(options))
    return build(session, catalog(session), messages, **options), client


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


async def chat_async(request: ChatRequest, *, client: Client, on_event: OnEvent | None = None,
                     stream: bool = True) -> Reply:
    """:func:`chat` from a coroutine: a batch's rows and the panels, many on one loop.

    ``on_event`` gets the same events as :func:`chat`'s, called on the loop's thread as they
    arrive. Two ways stop a reply mid-way, and both keep what arrived in ``.reply``:
    ``on_event`` raising :class:`errors.Stopped` (as on the sync path), or cancelling the
    task, which closes the response at once, even while the gateway sends nothing; the
    ``CancelledError`` then carries the partial reply. ``stream=False`` asks for the reply
    whole (:mod:`.whole_reply`), for a reply nobody watches as it arrives (a batch's row):
    the same reply for less client work. A request with tools runs in a worker thread: its
    tools are plain functions, and may block.
    """
    if request.tools:
        return await asyncio.to_thread(chat, request, client=client, on_event=on_event)
    step = _Round(request, request.messages, client, on_event)
    chunks = None
    try:
        chunks = await client.chat_async(step.body, on_notice=step.notice, stream=stream)
        step.source = last_source()
        async for chunk in chunks:
            step.feed(chunk)
        step.end()
    except errors.ModelNotFound as exc:
        step.fail(await asyncio.to_thread(_with_models, exc, client))  # it asks the gateway for its models
    except (errors.LLMError, asyncio.CancelledError) as exc:
        step.fail(exc)
    finally:
        if chunks is not None:
            await chunks.aclose()
    return step.settle(step.close())


def _incomplete(request: ChatRequest) -> errors.IncompleteReply:
    return errors.IncompleteReply(
        f"The stream from {request.model} ended before the model finished (no finish reason): "
        f"the gateway or the model server dropped it. The partial text is kept in .reply; re-run to retry.")


def _round(request: ChatRequest, messages: list[dict], client: Client, on_event: OnEvent | None,
           tools_round: tuple[int, int] | None = None) -> Reply:
    """One streamed request; with ``tools_round``, the calls it asks for run before it ends."""
    step = _Round(request, messages, client, on_event)
    client.prepare(request.model)
    chunks = None
    try:
        chunks = client.chat(step.body, on_notice=step.notice)
        step.source = last_source()
        for chunk in chunks:
            step.feed(chunk)
        step.end()
    except errors.ModelNotFound as exc:
        step.fail(_with_models(exc, client))
    except (errors.LLMError, KeyboardInterrupt) as exc:
        step.fail(exc)
    finally:
        if chunks is not None:
            # Closes the HTTP response now, so an interrupted reply stops costing the gateway.
            chunks.close()
    reply = step.close()
    if tools_round is not None and step.error is None:
        try:
            _run_tools(request, reply, step.emit, *tools_round)
        except KeyboardInterrupt as exc:
            step.error = exc
    return step.settle(reply)


class _Round:
    """What both paths do with one streamed request: the events assembled from its chunks go
    to the reply and to ``on_event``; at the end the reply is counted, logged, and returned
    or attached to the error. Only the reading of the chunks differs between the paths."""

    def __init__(self, request: ChatRequest, messages: list[dict], client: Client, on_event: OnEvent | None):
        self.request, self.client, self.on_event = request, client, on_event
        self.body, notice = request.body(messages)
        self.builder = ReplyBuilder(request.model)
        self.builder.reply.messages = messages
        self.assembler = Assembler(opens_thinking=request.opens_thinking, tools=request.offers_tools)
        self.source = "live"
        self.error: BaseException | None = None
        if notice:
            self.emit(Notice(notice))

    def emit(self, event: Event) -> None:
        self.builder.add(event)
        if self.on_event is not None:
            self.on_event(event)

    def notice(self, text: str) -> None:
        self.emit(Notice(text))

    def feed(self, chunk: dict) -> None:
        for event in self.assembler.feed(chunk):
            self.emit(event)

    def end(self) -> None:
        """The stream ended by itself: out with what the think splitter held back."""
        for event in self.assembler.end():
            self.emit(event)
        if self.builder.reply.finish_reason is None:
            self.error = _incomplete(self.request)

    def fail(self, error: BaseException) -> None:
        self.error = error
        # What the think splitter held back belongs to the partial reply; the view, stopped or
        # broken, is not fed again.
        for event in self.assembler.end():
            self.builder.add(event)

    def close(self) -> Reply:
        reply = self.builder.finish()
        record(self.request.model, reply.usage, failed=self.error is not None)
        return reply

    def settle(self, reply: Reply) -> Reply:
        """Log the round; raise its error with the partial reply, or announce its end."""
        _log(self.request, self.body, reply, self.error, self.source, self.client.session)
        if self.error is not None:
            self.error.reply = reply
            raise self.error
        self.emit(RoundEnd(reply))
        return reply


def _log(request: ChatRequest, body: dict, reply: Reply, error, source: str, session) -> None:
    """File the round in the call log: what was sent, what came back, how, from where."""
    if not session.log:
        return
    reply.log_id = call_log.new_id()
    usage = reply.usage
    params = {k: v for k, v in body.items() if k not in ("messages", "tools", "model")}
    call_log.record({
        "id": reply.log_id, "kind": "chat", "model": request.model, **(request.origin or call_log.where()),
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
