"""Conversations, output formats, images and error explanations in the magics.

``send`` is what ``%%llm`` runs once it has read its options; ``%llm_history``,
``%llm_reset`` and ``%llm_explain`` are the line magics of this module.
"""
from __future__ import annotations

import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .. import errors

_EXPLAIN = """A cell in my Jupyter notebook failed. Explain briefly what went wrong, then show the corrected code.

The cell:
```python
{code}
```

The error:
```
{error}
```"""


def send(shell, args, prompt: str, params: dict):
    """Run one ``%%llm`` request: alone or in a conversation, with images, shown in a format."""
    from ..core import formats
    from ..api import chat

    try:
        name = formats.check(args.format)
        images = [_image(n, shell.user_ns) for n in args.image or ()]
    except errors.ConfigError as exc:
        raise UsageError(str(exc)) from None
    renderer = None
    kw = dict(model=args.model, think=args.think, display=True, **params)
    if name != "markdown":
        from ..display.formats import format_bundle
        from ..display.renderer import ReplyRenderer

        renderer = ReplyRenderer(answer=lambda content: format_bundle(name, content))
        renderer.start(model=args.model or "")
        kw.update(display=False, on_event=renderer.on_event)
    try:
        if args.chat:
            reply = _conversation(args).ask(prompt, images=images, **kw)
        else:
            from ..core.messages import build_messages

            messages = build_messages(prompt, system=args.system)
            if images:
                from ..core.images import user_content

                messages[-1]["content"] = user_content(prompt, images)
            reply = chat(messages, **kw)
        if renderer is not None:
            _read(reply, name)
    except (errors.LLMError, KeyboardInterrupt) as exc:
        if renderer is not None and getattr(exc, "reply", None) is not None:
            renderer.finish(exc.reply, error=exc)
        raise
    if renderer is not None:
        renderer.finish(reply)
    if name == "code" and reply.parsed:
        _next_cell(shell, reply.parsed, reply.content)
    return reply


def _conversation(args):
    from ..core.conversation import Conversation

    conversation = Conversation.named(args.chat)
    if args.system:
        conversation.system = args.system
    return conversation


def _image(name: str, namespace: dict) -> dict:
    from ..core.images import image_part, resolve

    return image_part(resolve(name, namespace))


def _read(reply, name: str) -> None:
    from ..core import formats

    if name == "json":
        try:
            reply.parsed = formats.parse_json(reply.content)
        except errors.FormatError as exc:
            exc.reply = reply
            raise
    elif name == "code":
        reply.parsed = formats.extract_code(reply.content)[0]


def _next_cell(shell, code: str, content: str) -> None:
    from ..core.formats import extract_code, is_python

    language = extract_code(content)[1]
    if not is_python(language):
        print(f"jupyter-llm: the code is {language}, not Python: copy it from above.", file=sys.stderr)
    elif "__vsc_ipynb_file__" in shell.user_ns:
        # VS Code ignores set_next_input: the code shown above is the copy to take.
        print("jupyter-llm: this front end cannot add a cell: copy the code from above.", file=sys.stderr)
    else:
        shell.set_next_input(code, replace=False)


@magics_class
class ChatMagics(Magics):
    """``%llm_history``, ``%llm_reset`` and ``%llm_explain``."""

    @magic_arguments()
    @argument("name", nargs="?", help="conversation name (default: the one %%llm --chat continues)")
    @line_magic
    def llm_history(self, line: str):
        """Show a conversation that ``%%llm --chat [NAME]`` continues.

        Example::

            %llm_history
            %llm_history review
        """
        from ..core.conversation import DEFAULT, Conversation
        from . import parse_options

        args = parse_options(self.llm_history, line)
        name = args.name or DEFAULT
        if args.name and name not in Conversation.names():
            known = ", ".join(Conversation.names()) or "none yet"
            raise UsageError(f"No conversation named {name!r} (conversations: {known}). "
                             f"Start one with %%llm --chat {name}.")
        return Conversation.named(name)

    @magic_arguments()
    @argument("name", nargs="?", help="conversation name (default: the one %%llm --chat continues)")
    @argument("--all", action="store_true", help="clear every conversation")
    @line_magic
    def llm_reset(self, line: str):
        """Clear a conversation (``--all``: every one); the next ``%%llm --chat`` starts afresh.

        Example::

            %llm_reset
            %llm_reset review
        """
        from ..core.conversation import DEFAULT, Conversation
        from . import parse_options

        args = parse_options(self.llm_reset, line)
        names = Conversation.names() if args.all else [args.name or DEFAULT]
        for name in names:
            conversation = Conversation.named(name)
            turns = conversation.turns
            conversation.reset()
            print(f"jupyter-llm: conversation {name!r} cleared ({turns} turn(s) forgotten).", file=sys.stderr)

    @magic_arguments()
    @argument("-m", "--model", help="model name (default: session.model)")
    @argument("--think", dest="think", action="store_const", const=True, default=None)
    @argument("--no-think", dest="think", action="store_const", const=False)
    @line_magic
    def llm_explain(self, line: str):
        """Send the last error and the cell that raised it to the model, for an explanation and a fix.

        Example::

            %llm_explain -m qwen3-32b --no-think
        """
        from ..api import chat
        from ..core.messages import build_messages
        from . import parse_options

        args = parse_options(self.llm_explain, line)
        code, error = _last_error(self.shell)
        prompt = _EXPLAIN.format(code=code.strip(), error=error)
        try:
            reply = chat(build_messages(prompt), model=args.model, think=args.think, display=True)
        except (errors.LLMError, KeyboardInterrupt) as exc:
            if getattr(exc, "reply", None) is not None:
                self.shell.user_ns["_llm"] = exc.reply
            raise
        self.shell.user_ns["_llm"] = reply


def _last_error(shell) -> tuple[str, str]:
    from ..core.values import ErrorLog, error_text

    log = shell.user_ns.get("Err")
    last = log.last() if isinstance(log, ErrorLog) else None
    if last is not None:
        return last
    exc = getattr(sys, "last_value", None)
    if exc is None:
        raise UsageError("No error to explain yet: run the cell that fails, then %llm_explain.")
    return "(the cell is not known: the error came before %load_ext jupyter_llm)", error_text(exc)


def register(ipython) -> None:
    from ..core.values import install

    ipython.register_magics(ChatMagics)
    install(ipython)


def unregister(ipython) -> None:
    from ..core.values import uninstall

    uninstall(ipython)
