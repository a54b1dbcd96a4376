"""``%llm_history`` and ``%llm_reset``: the conversations that ``%%llm --chat NAME`` continues."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..api import Conversation
from ..core.conversation import DEFAULT
from ..core.notes import note
from .options import parse_options


@magics_class
class ConversationMagics(Magics):
    """``%llm_history`` and ``%llm_reset``."""

    @magic_arguments()
    @argument("name", nargs="?", help="conversation name (default: the one %%llm --chat continues)")
    @line_magic
    def llm_history(self, line: str):
        """Show a conversation that ``%%llm --chat [NAME]`` continues.

        Example::

            %llm_history
            %llm_history review
        """
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
        args = parse_options(self.llm_reset, line)
        names = Conversation.names() if args.all else [args.name or DEFAULT]
        for name in names:
            conversation = Conversation.named(name)
            turns = conversation.turns
            conversation.reset()
            note(f"conversation {name!r} cleared ({turns} turn(s) forgotten).")


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(ConversationMagics)
