"""``%llm_cassette``: record or replay this notebook's model traffic (a thin adapter over the session)."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .. import errors
from ..core.cassette_transport import active
from ..core.session import current
from .options import parse_options


@magics_class
class CassetteMagics(Magics):
    """``%llm_cassette``."""

    @magic_arguments()
    @argument("path", nargs="?", help="the cassette file (default: beside the notebook, x.ipynb -> x.llm.jsonl)")
    @argument("--mode", choices=["auto", "record", "replay", "fallback", "off"],
              help="auto (default): replay what is recorded, record the rest; record: start afresh; "
                   "replay: never call the gateway; fallback: replay what is recorded, send the rest "
                   "live and record nothing; off: stop")
    @argument("--speed", type=float, help="replay pace: 0 = instant (default), 1 = as recorded")
    @line_magic
    def llm_cassette(self, line: str):
        """Record model answers to a cassette file, or replay them without the gateway.

        With no arguments, shows which cassette answers and how. The file is JSON Lines,
        one exchange per line, with no key in it: commit it beside the notebook.

        Example::

            %llm_cassette                               # x.ipynb -> x.llm.jsonl, auto mode
            %llm_cassette answers.llm.jsonl --mode replay
            %llm_cassette --mode fallback               # a shipped notebook: new prompts go live
            %llm_cassette --mode off
        """
        session = current()
        args = parse_options(self.llm_cassette, line)
        if args.speed is not None:
            if args.speed < 0:
                raise UsageError("--speed must be 0 (instant) or more, e.g. --speed 1 for the recorded pace.")
            session.cassette_speed = args.speed
        if args.path is not None or args.mode is not None:
            session.cassette = args.path if args.path is not None else session.cassette
            session.cassette_mode = args.mode or "auto"
        try:
            tape = active(session)
        except errors.ConfigError as exc:
            session.cassette_mode = "off"
            raise UsageError(str(exc)) from exc
        if tape is None:
            print("jupyter-llm: no cassette; requests go to the gateway.")
        else:
            pace = "instant" if not tape.speed else f"{tape.speed:g}x the recorded pace"
            print(f"jupyter-llm: cassette {tape.path} ({tape.mode} mode, {len(tape)} exchanges, replay {pace})")


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(CassetteMagics)
