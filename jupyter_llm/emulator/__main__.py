"""``python -m jupyter_llm.emulator``: serve the loopback gateway emulator until Ctrl-C.

    python -m jupyter_llm.emulator --port 8000 --key sk-a:A --key sk-b:B \\
        --option reasoning=inline --option rate=50
"""
from __future__ import annotations

import argparse
import signal
import sys
import threading

from . import Emulator
from ._models import SettingError, parse_header


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m jupyter_llm.emulator",
        description="A loopback emulator of the gateway (a test double) for tests and demos.")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    parser.add_argument("--key", action="append", default=[], metavar="KEY:GROUP",
                        help="accept only these keys, each with its group A, B or *")
    parser.add_argument("--option", action="append", default=[], metavar="NAME=VALUE",
                        help="a behaviour setting for every model, e.g. rate=40 or fault=429")
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the emulator in the foreground; returns the exit status."""
    parser = _parser()
    args = parser.parse_args(argv)
    keys = None
    if args.key:
        keys = {}
        for item in args.key:
            key, sep, group = item.rpartition(":")
            if not sep or not key or group not in ("A", "B", "*"):
                parser.error("--key wants KEY:GROUP with GROUP one of A, B, *")
            keys[key] = group
    try:
        options = parse_header("; ".join(args.option))
        emulator = Emulator(host=args.host, port=args.port, keys=keys, **options).start()
    except (SettingError, OSError) as exc:
        parser.error(str(exc))
    print(f"jupyter-llm gateway emulator (a test double) listening on {emulator.url}", flush=True)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    try:
        while not done.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
