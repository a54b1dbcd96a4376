"""The IPython magics: thin adapters that parse what was typed and call the Python API."""
from __future__ import annotations

import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments, parse_argstring

from .. import errors


@magics_class
class LLMMagics(Magics):
    """``%%llm``, ``%llm_config`` and ``%llm_models``."""

    @magic_arguments()
    @argument("-m", "--model", help="model name (default: session.model)")
    @argument("--think", dest="think", action="store_const", const=True, default=None,
              help="ask the model to think (reasoning shown in a collapsible panel)")
    @argument("--no-think", dest="think", action="store_const", const=False,
              help="switch thinking off (models with a thinking switch, e.g. Qwen3)")
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
        from .conversations import send

        args = parse_options(self.llm, line)
        prompt = cell_prompt(cell, self.shell.user_ns, "llm")
        params = sampling(args)
        if args.tools:
            from ..core.tools import resolve

            try:
                params["tools"] = resolve(args.tools, self.shell.user_ns)
            except errors.ConfigError as exc:
                raise UsageError(str(exc)) from None
            params.update(confirm=args.confirm, max_tool_rounds=args.max_tool_rounds)
        elif args.confirm or args.max_tool_rounds is not None:
            raise UsageError("--confirm and --max-tool-rounds need --tools NAMES (or --tools all).")
        parsed = args.format.lower() == "json"  # -o NAME gets the parsed object, and nothing if none
        try:
            reply = send(self.shell, args, prompt, params)
        except (errors.LLMError, KeyboardInterrupt) as exc:
            self._keep(getattr(exc, "reply", None), None if parsed else args.output)
            raise
        self._keep(reply, args.output, parsed=parsed)

    def _keep(self, reply, name: str | None, parsed: bool = False) -> None:
        if reply is None:
            return
        self.shell.user_ns["_llm"] = reply
        if name:
            self.shell.user_ns[name] = reply.parsed if parsed else reply

    @magic_arguments()
    @argument("--reload", action="store_true", help="re-read the config file and environment")
    @argument("settings", nargs="*", help="NAME=VALUE pairs; 'api_key' alone asks for the key with a hidden prompt")
    @line_magic
    def llm_config(self, line: str):
        """Show the settings (no arguments: an editable panel in a kernel with widgets) or change
        them: ``%llm_config model=qwen3-32b think=false``.

        The API key is never typed into a cell: ``%llm_config api_key`` asks for it with a
        hidden prompt. Settings: base_url, api_key, auth, model, think, soft_think_switch,
        temperature, max_tokens, timeout, max_retries, extra_headers, confirm_tools, max_tool_rounds.
        """
        from IPython.display import display

        from .. import session

        args = parse_options(self.llm_config, line)
        if args.reload:
            session.reload()
        for item in args.settings:
            name, sep, value = item.partition("=")
            if name == "api_key":
                if sep and value:
                    raise UsageError(
                        "Not set: a key typed into a cell is saved with the notebook and in the history. "
                        "Delete it from this cell, then run %llm_config api_key and paste the key at the "
                        "hidden prompt, or set JUPYTER_LLM_API_KEY."
                    )
                import getpass

                session.api_key = getpass.getpass("API key (hidden): ").strip() or None
                continue
            if not sep:
                raise UsageError(f"Expected NAME=VALUE, got {item!r}. Example: %llm_config model=qwen3-32b")
            try:
                session.set(name, value)
            except (errors.ConfigError, ValueError) as exc:
                raise UsageError(str(exc)) from None
            if name in ("base_url", "api_key", "auth"):
                from ..api import catalog

                catalog().refresh()
        if not args.settings:
            display(_settings_view(session))

    @magic_arguments()
    @argument("--refresh", action="store_true", help="ask the gateway again")
    @line_magic
    def llm_models(self, line: str):
        """Show the models the gateway serves and what each can do (context, tools, thinking, vision)."""
        from ..api import catalog

        args = parse_options(self.llm_models, line)
        if args.refresh:
            catalog().refresh()
        return catalog().frame()


def cell_prompt(cell: str, namespace: dict, magic: str) -> str:
    """The cell's text with ``{name}`` references filled; a note names those left as written."""
    from ..core.messages import interpolate

    if not cell.strip():
        raise UsageError(f"The cell is empty: write the prompt below the %%{magic} line.")
    filled = interpolate(cell, namespace)
    if filled.missing:
        names = ", ".join("{" + name + "}" for name in filled.missing)
        print(f"jupyter-llm: no variable for {names}; left as written.", file=sys.stderr)
    return filled.text.strip()


def sampling(args) -> dict:
    """The ``-t`` and ``--max-tokens`` a cell set (unset ones fall back to the session)."""
    return {k: v for k, v in (("temperature", args.temperature), ("max_tokens", args.max_tokens)) if v is not None}


def parse_options(magic, line: str):
    """Parse a magic's options; bad input is a one-line ``UsageError`` that points to ``%magic?``."""
    name = magic.__name__
    try:
        args = parse_argstring(magic, line)
    except UsageError as exc:
        raise UsageError(f"{exc}. See %{name}? for the options.") from None
    except ValueError as exc:  # shlex: an unclosed quote
        raise UsageError(f"Cannot read the options ({exc}): close the quote. See %{name}? for the options.") from None
    except SystemExit:  # argparse after --help
        raise UsageError(f"See %{name}? for the options.") from None
    for key, value in vars(args).items():
        # IPython splits the line keeping quotes, so -s 'Be brief.' would send the quotes too.
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            setattr(args, key, value[1:-1])
    output = getattr(args, "output", None)
    if output is not None and not output.isidentifier():
        raise UsageError(f"-o {output}: the name must be a Python variable name, e.g. -o answer.")
    return args


def _settings_view(session):
    # With a front end that draws widgets, the settings are an editable panel; elsewhere a table.
    from ..display.renderer import _has_front_end

    if not _has_front_end():
        return session
    from ..widgets.settings import SettingsPanel

    return SettingsPanel()


def _short_traceback(shell, etype, value, tb, tb_offset=None):
    # A gateway refusal is not a bug in the user's code: one clear line beats a traceback wall.
    # IPython leaves showing it to the handler; _showtraceback is what sends the error message.
    stb = [f"\x1b[0;31m{etype.__name__}\x1b[0m: {value}"]
    shell._showtraceback(etype, value, stb)
    return stb


def register(ipython) -> None:
    from . import conversations as magics_chat
    from ..data.accessor import register_when_pandas_loads
    from .usage import BatchMagics
    from .cassette import CassetteMagics
    from .embed import EmbedMagics
    from .panels import PanelMagics

    ipython.register_magics(LLMMagics)
    ipython.register_magics(EmbedMagics)
    ipython.register_magics(CassetteMagics)
    ipython.register_magics(BatchMagics)
    register_when_pandas_loads(ipython)
    magics_chat.register(ipython)
    ipython.register_magics(PanelMagics)
    if not ipython.custom_exceptions:
        ipython.set_custom_exc((errors.LLMError,), _short_traceback)


def unregister(ipython) -> None:
    from . import conversations as magics_chat

    magics_chat.unregister(ipython)
    if errors.LLMError in ipython.custom_exceptions:
        ipython.set_custom_exc((), None)
