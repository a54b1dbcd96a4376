"""``%llm_log`` and ``%llm_cache``: the call log and the caches that survive a restart."""
from __future__ import annotations

import json
from pathlib import Path

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from ..core import call_log
from ..core.files import write_atomic
from ..core.notes import note
from .options import parse_options


@magics_class
class LogMagics(Magics):
    """``%llm_log`` and ``%llm_cache``."""

    @magic_arguments()
    @argument("id", nargs="?", help="one call in full, by the id the table (or Reply.log_id) shows")
    @argument("-n", type=int, default=20, help="how many calls to show (default 20)")
    @argument("--search", metavar="TEXT", help="words to find in prompts and replies")
    @argument("--model", help="only this model's calls")
    @argument("--notebook", action="store_true", help="only this notebook's calls")
    @argument("--since", metavar="DATE", help="only calls since DATE (2026-11-01, or 2026-11-01T09:00)")
    @argument("--before", metavar="DATE", help="with --forget: the calls before DATE")
    @argument("--export", metavar="PATH", help="write the calls shown as JSON Lines to PATH")
    @argument("--forget", action="store_true",
              help="delete calls: with --notebook, --before DATE or --all")
    @argument("--all", action="store_true", help="with --forget: every call")
    @line_magic
    def llm_log(self, line: str):
        """The calls made from this machine, newest first: model, tokens, timings, prompt and reply.

        Example::

            %llm_log -n 5
            %llm_log --search rivers --since 2026-11-01
            %llm_log 18a9c3f2e5b10000-3f2a91bc
            %llm_log --forget --notebook
        """
        from ..data.calls import filters, log  # pandas: loaded when the log is shown, not at %load_ext

        args = parse_options(self.llm_log, line)
        if args.forget:
            return self._forget(args, filters)
        if args.id:
            rows = call_log.query("id = ?", (args.id,))
            if not rows:
                raise UsageError(f"No call {args.id!r} in the log ({call_log.path()}).")
            return _Call(rows[0])
        try:
            frame = log(args.n, search=args.search, model=args.model, notebook=args.notebook or None,
                        since=args.since)
        except ValueError as exc:
            raise UsageError(f"--since {args.since!r}: {exc}. Write a date like 2026-11-01.") from exc
        if args.export:
            rows = [{"id": i, **{k: _plain(v) for k, v in row.items()}} for i, row in frame.iterrows()]
            write_atomic(Path(args.export), "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
            note(f"wrote {len(rows):,} calls to {args.export}.")
        return frame[["time", "kind", "model", "source", "content", "prompt_tokens", "completion_tokens", "duration",
                      "error_class"]]

    def _forget(self, args, filters):
        if args.all:
            where, values = "1", ()
        elif args.notebook or args.before:
            where, values = filters(notebook=args.notebook or None, before=args.before)
        else:
            raise UsageError("--forget needs --notebook, --before DATE or --all: say which calls to delete.")
        gone = call_log.forget(where or "1", values)
        note(f"forgot {gone:,} call(s).")

    @magic_arguments()
    @argument("--clear", action="store_true", help="forget every cached row and vector")
    @line_magic
    def llm_cache(self, line: str):
        """Where finished ``map()`` rows and embeddings are kept, how much, and ``--clear`` to forget them.

        Example::

            %llm_cache
            %llm_cache --clear
        """
        from ..data import cache  # numpy: loaded on first use, not at %load_ext

        args = parse_options(self.llm_cache, line)
        if args.clear:
            cache.clear()
            note("cache cleared: the next map() and embed() send everything again.")
        return _Stats(cache.stats())


class _Call:
    """One logged call in full (``%llm_log ID``)."""

    def __init__(self, row: dict):
        self.row = row

    def _repr_mimebundle_(self, include=None, exclude=None):
        lines = [f"{name}: {value}" for name, value in self.row.items() if value not in (None, "")]
        return {"text/plain": "\n".join(lines)}


class _Stats:
    def __init__(self, stats: dict):
        self.stats = stats

    def _repr_mimebundle_(self, include=None, exclude=None):
        s = self.stats
        text = (f"cache = {s['mode']!r}: {s['disk_rows']:,} rows and {s['disk_vectors']:,} vectors on disk "
                f"({s['disk_bytes'] / 1e6:,.1f} MB, {s['path']}); {s['memory_rows']:,} rows and "
                f"{s['memory_vectors']:,} vectors in memory.")
        return {"text/plain": text}


def _plain(value):
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, float) and value != value:
        return None
    return value.item() if hasattr(value, "item") else value


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(LogMagics)
