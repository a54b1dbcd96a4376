"""``%llm_embed``: embed the texts of a notebook variable (a thin adapter over :func:`jupyter_llm.embed`)."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .options import parse_options


@magics_class
class EmbedMagics(Magics):
    """``%llm_embed``."""

    @magic_arguments()
    @argument("expr", nargs="+", help="a list, Series or DataFrame of texts (any Python expression)")
    @argument("-o", "--output", metavar="NAME", help="store the embedding DataFrame in this variable")
    @argument("-m", "--model", help="embedding model (default: the first one the gateway serves)")
    @argument("--dimensions", type=int, help="shorter vectors from a Matryoshka model")
    @argument("-c", "--column", help="the text column, when EXPR is a DataFrame")
    @argument("--instruction", help="a task instruction for queries (Qwen3-Embedding); documents go without")
    @line_magic
    def llm_embed(self, line: str):
        """Embed EXPR and return the DataFrame (text + embedding column); ``-o NAME`` also keeps it.

        Example::

            %llm_embed reviews["text"] -o review_vectors
            %llm_embed df -c body -m Qwen3-Embedding-8B --dimensions 1024
        """
        from ..data.embeddings import embed  # numpy and pandas: loaded on first use, not at %load_ext

        args = parse_options(self.llm_embed, line)
        source = " ".join(args.expr)
        try:
            texts = self.shell.ev(source)
        except Exception as exc:
            raise UsageError(f"%llm_embed: could not evaluate {source!r}: {type(exc).__name__}: {exc}") from exc
        frame = embed(texts, model=args.model, dimensions=args.dimensions, column=args.column,
                      instruction=args.instruction)
        if args.output:
            if not args.output.isidentifier():
                raise UsageError(f"-o needs a variable name, not {args.output!r}")
            self.shell.user_ns[args.output] = frame
        return frame


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(EmbedMagics)
