"""``%llm_usage``: requests and tokens per model, for this session and for the last ``map()`` batch,
with what is left of the session's budget and of the key's quota at the gateway."""
from __future__ import annotations

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..core import budget, quota, usage
from ..core.notes import note
from ..core.session import current
from .options import parse_options


@magics_class
class UsageMagics(Magics):
    """``%llm_usage``."""

    @magic_arguments()
    @argument("--batch", action="store_true", help="only the last map() batch")
    @argument("--reset", action="store_true",
              help="forget the counts so far (not the budget: a kernel restart starts that afresh)")
    @line_magic
    def llm_usage(self, line: str):
        """Requests and tokens per model in this session (``--batch``: the last ``map()`` only),
        then what is left of the session's budget (``budget_tokens``, ``budget_requests``) and of
        the key's quota, where the gateway reports it (one-api does).

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
            summary = usage.last_batch_note()
            if not summary:
                print("jupyter-llm: no map() batch has run in this session yet.")
                return None
            print(summary)
        _left(current())
        return usage.totals(last_batch=args.batch)


def _left(session) -> None:
    for line in budget.left(session):
        note(line)
    found = quota.read(session)
    if found is not None:
        tokens = found.tokens_left(session.price_per_1k_tokens)
        worth = f", about {tokens:,} tokens at {session.price_per_1k_tokens:g} per 1,000" if tokens is not None else ""
        note(f"quota at the gateway: {found}{worth}")


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(UsageMagics)
