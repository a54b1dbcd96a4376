"""``%llm_chat`` and ``%%llm_compare``: thin adapters that open the widget panels."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, cell_magic, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from IPython.display import display

from .. import errors
from .options import cell_prompt, parse_options, sampling, thinking


@magics_class
class PanelMagics(Magics):
    """``%llm_chat`` and ``%%llm_compare``."""

    @magic_arguments()
    @argument("-m", "--model", help="model to chat with (default: session.model)")
    @argument("-s", "--system", help="system prompt")
    @argument("-o", "--output", metavar="NAME", help="also keep the panel in this variable")
    @line_magic
    def llm_chat(self, line: str):
        """Open a chat panel: streaming replies, reasoning, Stop, Regenerate, export.

        Example::

            %llm_chat -m qwen3-32b -o chat
        """
        from ..widgets.chat import ChatPanel  # ipywidgets: loaded on first use, not at %load_ext

        args = parse_options(self.llm_chat, line)
        panel = ChatPanel(model=args.model, system=args.system)
        if args.output:
            self.shell.user_ns[args.output] = panel
        display(panel)

    @magic_arguments()
    @argument("-m", "--models", required=True, help="comma-separated model names, e.g. qwen3-32b,qwq-32b")
    @thinking
    @argument("-s", "--system", help="system prompt")
    @argument("-t", "--temperature", type=float, help="sampling temperature")
    @argument("--max-tokens", type=int, help="cap on generated tokens per model")
    @argument("-o", "--output", metavar="NAME", help="keep the panel in this variable (await NAME: the table)")
    @cell_magic
    def llm_compare(self, line: str, cell: str):
        """Send the cell to several models at once; their replies stream side by side.

        Each column shows time to first token, tokens/s, tokens and reasoning length. When
        every model is done, the summary DataFrame is in ``_llm_compare``. ``{name}`` is
        filled from the notebook's variables, as in ``%%llm``.

        Example::

            %%llm_compare -m qwen3-32b,qwq-32b,qwen72b-awq -o cmp
            Explain what a p-value is in two sentences.
        """
        from ..widgets.compare import ComparePanel  # ipywidgets: loaded on first use

        args = parse_options(self.llm_compare, line)
        prompt = cell_prompt(cell, self.shell.user_ns, "llm_compare")
        params = sampling(args)

        def keep(frame):
            self.shell.user_ns["_llm_compare"] = frame

        try:
            panel = ComparePanel(prompt, args.models.split(","), system=args.system, think=args.think,
                                 on_done=keep, **params)
        except errors.ConfigError as exc:
            raise UsageError(str(exc)) from exc
        if args.output:
            self.shell.user_ns[args.output] = panel
        display(panel)
        panel.start()


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(PanelMagics)
