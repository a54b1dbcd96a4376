"""``%llm_doctor``: check, line by line, whether this kernel can use the gateway (a thin adapter)."""
from __future__ import annotations

from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..core import doctor
from .options import parse_options


@magics_class
class DoctorMagics(Magics):
    """``%llm_doctor``."""

    @magic_arguments()
    @argument("-m", "--model", help="the chat model to try (default: session.model, else the first served)")
    @argument("--timeout", type=float, default=doctor.LIMIT,
              help=f"seconds each request may take (default {doctor.LIMIT:g})")
    @line_magic
    def llm_doctor(self, line: str):
        """Check the settings, the network, the key, the quota, the models, one tiny chat, embeddings,
        rerank and the installed versions; each line says ✓ or ✗ and what to do. The table never
        shows the key: a student can screenshot it and send it.

        Example::

            %llm_doctor
            %llm_doctor -m qwen3-32b --timeout 10
        """
        args = parse_options(self.llm_doctor, line)
        return doctor.run(model=args.model, limit=args.timeout)


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(DoctorMagics)
