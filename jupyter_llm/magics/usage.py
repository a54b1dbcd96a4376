"""``%llm_usage``: requests and tokens per model, for this session and for the last ``map()`` batch."""
from __future__ import annotations

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..core import usage
from .options import parse_options


@magics_class
class UsageMagics(Magics):
    """``%llm_usage``."""

    @magic_arguments()
    @argument("--batch", action="store_true", help="only the last map() batch")
    @argument("--reset", action="store_true", help="forget the counts so far")
    @line_magic
    def llm_usage(self, line: str):
        """Requests and tokens per model in this session (``--batch``: the last ``map()`` only).

        Example::

            %llm_usage
            %llm_usage --batch
        """
        args = parse_options(self.llm_usage, line)
        if args.reset:
            usage.clear()
            print("jupyter-llm: usage counts cleared.")
            return None
        if args.batch:
            note = usage.last_batch_note()
            if not note:
                print("jupyter-llm: no map() batch has run in this session yet.")
                return None
            print(note)
        return usage.totals(last_batch=args.batch)


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(UsageMagics)
