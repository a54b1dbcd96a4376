"""``%%llm``: send the cell to a model and stream the answer into the output area."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .. import errors
from ..api import Conversation, shown
from ..core import formats, images
from ..core.chat import send
from ..core.messages import build_messages
from ..core.notes import note
from ..core.tools import resolve
from ..display.formats import JSON_HEAD, format_bundle
from ..display.renderer import ReplyRenderer
from .options import cell_prompt, parse_options, sampling, thinking


@magics_class
class LLMMagics(Magics):
    """``%%llm``."""

    @magic_arguments()
    @argument("-m", "--model", help="model name (default: session.model)")
    @thinking
    @argument("-s", "--system", help="system prompt")
    @argument("-o", "--output", metavar="NAME", help="also store the Reply in this variable")
    @argument("-t", "--temperature", type=float, help="sampling temperature")
    @argument("--max-tokens", type=int, help="cap on generated tokens (reasoning included)")
    @argument("--tools", metavar="NAMES", help="comma-separated tool names the model may call, or 'all' (every @jupyter_llm.tool)")
    @argument("--confirm", action="store_const", const=True, default=None,
              help="ask before running each tool call (default: session.confirm_tools)")
    @argument("--max-tool-rounds", type=int, help="rounds of tool calls before the model must answer (default 8)")
    @argument("--chat", nargs="?", const="default", metavar="NAME",
              help="continue a named conversation (default name: 'default'); see %%llm_history, %%llm_reset")
    @argument("-f", "--format", default="markdown",
              help="markdown (default), text, code (into a new cell), json (-o NAME gets the object), html, math")
    @argument("--image", action="append", metavar="PATH_OR_NAME",
              help="an image for a vision model: a file, a variable (bytes, PIL image, Figure, Axes) or plt")
    @cell_magic
    def llm(self, line: str, cell: str):
        """Send the cell to a model and stream the answer as Markdown.

        ``{name}`` and ``{expr.attr}`` in the cell are filled from the notebook's variables;
        other braces (code, JSON) stay as they are; write ``{{name}}`` for a literal
        ``{name}``. The reply is kept as a ``Reply`` in ``_llm`` (and in ``-o NAME``).

        Example::

            %%llm -m qwen3-32b --no-think
            Explain what {df.shape} means for this data frame.

            %%llm --tools get_current_weather --confirm
            What is the weather like in Paris today?

            %%llm --chat -f json -o facts
            Give the three largest cities of {country} as a JSON list.
        """
        args = parse_options(self.llm, line)
        prompt = cell_prompt(cell, self.shell.user_ns, "llm")
        params = sampling(args)
        if args.tools:
            try:
                params["tools"] = resolve(args.tools, self.shell.user_ns)
            except errors.ConfigError as exc:
                raise UsageError(str(exc)) from exc
            params.update(confirm=args.confirm, max_tool_rounds=args.max_tool_rounds)
        elif args.confirm or args.max_tool_rounds is not None:
            raise UsageError("--confirm and --max-tool-rounds need --tools NAMES (or --tools all).")
        parsed = args.format.lower() == "json"  # -o NAME gets the parsed object, and nothing if none
        read = _ReadOnce()
        try:
            reply = self._send(args, prompt, params, read)
        except errors.Interrupted as exc:
            self._keep(exc.reply, None if parsed else args.output)
            if exc.reply is not None and (exc.reply.content or exc.reply.reasoning):
                exc.args = (f"{exc}; what arrived is kept in _llm.",)
            raise
        except errors.LLMError as exc:
            self._keep(exc.reply, None if parsed else args.output)
            raise
        self._keep(reply, args.output, parsed=parsed)

    def _send(self, args, prompt: str, params: dict, read: _ReadOnce):
        """One ``%%llm`` request: alone or in a conversation, with images, shown in a format."""
        try:
            name = formats.check(args.format)
            parts = [images.image_part(images.resolve(n, self.shell.user_ns)) for n in args.image or ()]
        except errors.ConfigError as exc:
            raise UsageError(str(exc)) from exc
        renderer = ReplyRenderer() if name == "markdown" else ReplyRenderer(
            answer=lambda content: [format_bundle(name, content, parse=read)],
            head=JSON_HEAD if name == "json" else None)
        renderer.start(model=args.model or "")
        options = dict(model=args.model, think=args.think, **params)
        if args.chat:
            conversation = Conversation.named(args.chat)
            if args.system:
                conversation.system = args.system
            return self._finish(conversation.ask(prompt, images=parts, renderer=renderer, display=True, **options),
                                name, read)
        messages = build_messages(prompt, system=args.system, images=parts)
        return self._finish(shown(lambda on_event: send(messages, on_event=on_event, **options), renderer=renderer),
                            name, read)

    def _finish(self, reply, name: str, read: _ReadOnce):
        _read(reply, name, read)
        if name == "code" and reply.parsed:
            _next_cell(self.shell, reply.parsed, reply.content)
        return reply

    def _keep(self, reply, name: str | None, parsed: bool = False) -> None:
        if reply is None:
            return
        self.shell.user_ns["_llm"] = reply
        if name:
            self.shell.user_ns[name] = reply.parsed if parsed else reply


class _ReadOnce:
    """Parses a ``-f json`` answer once for both readers: its output, then ``-o NAME``.

    A reply of tens of megabytes takes seconds to parse, and its objects several times
    its size: a second parse would double both.
    """

    def __init__(self):
        self._text: str | None = None
        self._value = self._error = None

    def __call__(self, text: str):
        if text is not self._text:
            self._text = text
            try:
                self._value, self._error = formats.parse_json(text), None
            except errors.FormatError as exc:
                self._value, self._error = None, exc
        if self._error is not None:
            raise self._error
        return self._value


def _read(reply, name: str, read: _ReadOnce) -> None:
    if name == "json":
        try:
            reply.parsed = read(reply.content)
        except errors.FormatError as exc:
            exc.reply = reply
            raise
    elif name == "code":
        reply.parsed = formats.extract_code(reply.content)[0]


def _next_cell(shell, code: str, content: str) -> None:
    language = formats.extract_code(content)[1]
    if not formats.is_python(language):
        note(f"the code is {language}, not Python: copy it from above.")
    elif "__vsc_ipynb_file__" in shell.user_ns:
        # VS Code ignores set_next_input: the code shown above is the copy to take.
        note("this front end cannot add a cell: copy the code from above.")
    else:
        shell.set_next_input(code, replace=False)


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(LLMMagics)
