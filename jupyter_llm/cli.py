"""``jupyter-llm record NOTEBOOK...``: run notebooks against the gateway and save their cassettes.

Each notebook runs top to bottom in a fresh kernel (nbclient) with its cassette in record
mode; the cassette (``x.ipynb`` -> ``x.llm.jsonl``) and the notebook with its new outputs
are both written, so ``pytest --nbval`` in replay mode compares the replay with exactly
what was recorded. The gateway is whatever the environment and config file name; with
none, the built-in emulator answers (and the command says so).

``jupyter-llm doctor``: the checks of ``%llm_doctor`` from a terminal, with the same
config files and environment a kernel started here would read; exit status 1 on a problem.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from . import errors
from .core import doctor
from .core.cassette import default_path
from .core.config import Session
from .core.files import write_atomic


def record(notebook: Path, *, cassette: Path | None = None, timeout: float = 600,
           kernel: str = "python3") -> Path:
    """Run ``notebook`` in record mode; write its cassette and its outputs. Returns the cassette path.

    Example::

        from jupyter_llm.cli import record
        record(Path("notebooks/quickstart.ipynb"))     # -> notebooks/quickstart.llm.jsonl
    """
    import nbclient
    import nbformat

    notebook = notebook.resolve()
    cassette = (cassette or default_path(notebook)).resolve()
    nb = nbformat.read(notebook, as_version=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_LLM_CASSETTE")}
    # JPY_SESSION_NAME is how Jupyter Server tells a kernel its notebook; set it the same way.
    env.update(JUPYTER_LLM_CASSETTE=str(cassette), JUPYTER_LLM_CASSETTE_MODE="record",
               JPY_SESSION_NAME=str(notebook))
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name=kernel, record_timing=False,
                                     resources={"metadata": {"path": str(notebook.parent)}})
    client.execute(env=env)
    write_atomic(notebook, nbformat.writes(nb) + "\n")
    return cassette


def _gateway() -> str:
    try:
        session = Session()
    except errors.ConfigError as exc:
        raise SystemExit(f"jupyter-llm record: {exc}") from exc
    if session.base_url:
        return f"the gateway at {session.base_url}"
    return ("the built-in emulator, a test double (no gateway configured: set JUPYTER_LLM_BASE_URL "
            "or base_url in the config file to record real answers)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="jupyter-llm", description="jupyter-llm command line tools.")
    commands = parser.add_subparsers(dest="command", required=True)
    rec = commands.add_parser("record", help="run notebooks and record their cassettes",
                              description=__doc__.split("\n\n")[1].replace("\n", " "))
    rec.add_argument("notebooks", nargs="+", type=Path, metavar="NOTEBOOK")
    rec.add_argument("--cassette", type=Path, help="cassette file (one notebook only; default: x.llm.jsonl beside it)")
    rec.add_argument("--timeout", type=float, default=600, help="seconds each cell may run (default 600)")
    rec.add_argument("--kernel", default="python3", help="kernel name (default python3)")
    check = commands.add_parser("doctor", help="check the settings, the gateway, the key and the models",
                                description="Check, line by line, whether this machine can use the gateway: "
                                            "settings and where they came from, network and proxy, key, quota, "
                                            "models, one tiny chat, embeddings, rerank, versions.")
    check.add_argument("-m", "--model", help="the chat model to try (default: the configured one)")
    check.add_argument("--timeout", type=float, default=doctor.LIMIT,
                       help=f"seconds each request may take (default {doctor.LIMIT:g})")
    args = parser.parse_args(argv)
    if args.command == "doctor":
        report = doctor.run(model=args.model, limit=args.timeout)
        print(report)
        return 0 if report.ok else 1
    if args.cassette and len(args.notebooks) > 1:
        parser.error("--cassette names one file: give one notebook with it")
    for path in args.notebooks:
        if path.suffix != ".ipynb" or not path.is_file():
            parser.error(f"{path}: not a notebook file (.ipynb)")
    print(f"jupyter-llm record: answers come from {_gateway()}", file=sys.stderr)
    import nbclient.exceptions

    for path in args.notebooks:
        try:
            cassette = record(path, cassette=args.cassette, timeout=args.timeout, kernel=args.kernel)
        except nbclient.exceptions.CellExecutionError as exc:
            print(f"jupyter-llm record: {path} failed; the notebook was not saved and its cassette may be "
                  f"partial. Fix the cell and record again.\n{exc}", file=sys.stderr)
            return 1
        lines = cassette.read_text(encoding="utf-8").count("\n") - 1 if cassette.exists() else 0
        print(f"recorded {path} -> {cassette.name} ({lines} exchanges)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
