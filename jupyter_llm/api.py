"""The Python API's chat front end: :func:`ask`, and :class:`Conversation` that shows its replies.

Each wraps the core's chat path (:mod:`jupyter_llm.core.chat`), which only emits events,
in a renderer from :mod:`jupyter_llm.display` when the reply is to be shown. The magics use
:func:`shown` the same way, so one module owns how a reply reaches the output area.
"""
from __future__ import annotations

from collections.abc import Callable

from . import errors
from .core import conversation, kernel
from .core.chat import send
from .core.messages import as_text, build_messages
from .core.notes import note
from .core.reply import Reply
from .display.renderer import ReplyRenderer


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
    ``jupyter_llm.session``; ``temperature=None`` (or ``max_tokens=None``) sends none at all.
    ``timeout``, ``max_retries`` and ``extra_headers`` apply to this call's requests and are
    never sent in the body; other keyword arguments go into the request body as they are.
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
    prompt, cleaned = as_text(prompt)
    if not prompt.strip():
        raise errors.ConfigError("The prompt is empty: give the model something to answer.")
    if cleaned:
        note(cleaned)
    messages = build_messages(prompt, system=system, images=images)
    listener = params.pop("on_event", None)
    return shown(lambda on_event: send(messages, model=model, think=think, on_event=on_event, **params),
                 display=display, also=listener)


def shown(run: Callable[[Callable | None], Reply], *, display: bool | None = True,
          renderer: ReplyRenderer | None = None, also: Callable | None = None) -> Reply:
    """``run(on_event)`` with its reply shown as it streams, when ``display`` (None: in a kernel).

    Each round that completes is shown by the renderer as it ends; a failure shows what
    arrived (marked INCOMPLETE), then propagates, to be shown as one line. An interrupt
    becomes :class:`~jupyter_llm.errors.Interrupted`, still a ``KeyboardInterrupt``, with
    the partial reply. ``also`` hears every event too (after the renderer).

    Example::

        reply = shown(lambda on_event: send(messages, on_event=on_event))
    """
    if display is None:
        display = kernel.in_kernel()
    if not display:
        return run(also)
    renderer = renderer or ReplyRenderer()

    def on_event(event) -> None:
        renderer.on_event(event)
        if also is not None:
            also(event)

    try:
        return run(on_event)
    except errors.LLMError as exc:
        renderer.finish(exc.reply, error=exc)
        raise
    except KeyboardInterrupt as exc:
        reply = getattr(exc, "reply", None)
        renderer.finish(reply, error=exc)
        # A fresh exception: the interrupt's own frames run down into the HTTP layer and hold
        # the request's headers, which a verbose traceback would print.
        raise errors.Interrupted(_interrupted(reply), reply=reply) from None


def _interrupted(reply) -> str:
    """What an interrupt cut short, in a few words."""
    if reply is not None and reply.content:
        return f"interrupted after {len(reply.content):,} characters of the answer"
    if reply is not None and reply.reasoning:
        return f"interrupted while the model was thinking ({len(reply.reasoning):,} characters of reasoning)"
    return "interrupted before the model answered"


class Conversation(conversation.Conversation):
    __doc__ = conversation.Conversation.__doc__

    def ask(self, prompt: str, *, display: bool | None = None, renderer: ReplyRenderer | None = None,
            **kw) -> Reply:
        """Send ``prompt`` after the earlier turns and keep both; shown as it streams in a kernel.

        Keyword arguments are those of :func:`jupyter_llm.ask` (``think``, ``temperature``,
        ``tools``, ``images``, ...). A failed request adds nothing to the conversation; the
        error's ``.reply`` holds any partial answer.

        Example::

            chat = jupyter_llm.Conversation(model="qwen3-32b")
            chat.ask("What is a p-value?", think=False)
        """
        base = super().ask
        return shown(lambda on_event: base(prompt, on_event=on_event, **kw), display=display, renderer=renderer)
