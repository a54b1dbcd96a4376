"""The ``jupyter-llm`` command: ``record`` notebooks, ``autoload`` the extension, ``doctor``.

``jupyter-llm record NOTEBOOK...`` runs each notebook top to bottom in a fresh kernel
(nbclient) with its cassette in record mode; the cassette (``x.ipynb`` -> ``x.llm.jsonl``)
and the notebook with its new outputs are both written, so ``pytest --nbval`` in replay
mode compares the replay with exactly what was recorded. The gateway is whatever the
environment and config file name; with none, the built-in emulator answers (and the
command says so).

``jupyter-llm autoload`` adds one line to the IPython profile's ``ipython_config.py`` so
that every kernel loads the extension: no ``%load_ext jupyter_llm`` needed, and no bare
"Cell magic not found" for a ``%%llm`` cell run first. ``--remove`` takes the line out.

``jupyter-llm doctor``: the checks of ``%llm_doctor`` from a terminal, with the same
config files and environment a kernel started here would read; exit status 1 on a problem.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from pathlib import Path

from . import errors
from .core import doctor
from .core.cassette import Cassette, default_path, settle
from .core.config import Session
from .core.files import write_atomic


def record(notebook: Path, *, cassette: Path | None = None, timeout: float = 600,
           kernel: str = "python3") -> Path:
    """Run ``notebook`` in record mode; write its cassette and its outputs. Returns the cassette path.

    The kernel records into a new file beside the cassette; once every cell has run, that
    recording replaces the cassette, sorted, keeping each old line whose answer is unchanged.
    A notebook that fails leaves the cassette as it was.

    Example::

        from jupyter_llm.cli import record
        record(Path("notebooks/quickstart.ipynb"))     # -> notebooks/quickstart.llm.jsonl
    """
    import nbclient
    import nbformat

    notebook = notebook.resolve()
    cassette = (cassette or default_path(notebook)).resolve()
    # Same file name in a hidden folder beside it: the notes in the outputs name the cassette.
    folder = Path(tempfile.mkdtemp(prefix=".jupyter-llm-record-", dir=cassette.parent))
    fresh = folder / cassette.name
    nb = nbformat.read(notebook, as_version=4)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JUPYTER_LLM_CASSETTE")}
    # JPY_SESSION_NAME is how Jupyter Server tells a kernel its notebook; set it the same way.
    env.update(JUPYTER_LLM_CASSETTE=str(fresh), JUPYTER_LLM_CASSETTE_MODE="record",
               JPY_SESSION_NAME=str(notebook))
    client = nbclient.NotebookClient(nb, timeout=timeout, kernel_name=kernel, record_timing=False,
                                     resources={"metadata": {"path": str(notebook.parent)}})
    try:
        client.execute(env=env)
        if fresh.exists():
            settle(fresh, before=cassette)
            os.replace(fresh, cassette)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    write_atomic(notebook, nbformat.writes(nb) + "\n")
    return cassette


#: What ``jupyter-llm autoload`` adds to ``ipython_config.py`` (IPython defines ``c`` there).
AUTOLOAD = ("# Added by `jupyter-llm autoload` (`jupyter-llm autoload --remove` takes it out):\n"
            "c.InteractiveShellApp.extensions.append(\"jupyter_llm\")\n")


def autoload(profile: str = "default", *, remove: bool = False) -> tuple[Path, bool]:
    """Load the extension in every kernel of IPython ``profile`` (``remove``: stop doing so).

    Returns the config file and whether it changed. The file is written atomically, and
    the rest of it is left as it was.

    Example::

        from jupyter_llm.cli import autoload
        autoload()      # ~/.ipython/profile_default/ipython_config.py
    """
    from IPython.paths import get_ipython_dir  # IPython takes a while to import; `record` never needs it

    path = Path(get_ipython_dir()) / f"profile_{profile}" / "ipython_config.py"
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    if remove:
        changed = text.replace(AUTOLOAD, "")
    elif AUTOLOAD in text:
        changed = text
    else:
        changed = text + ("\n" if text and not text.endswith("\n") else "") + AUTOLOAD
    if changed == text:
        return path, False
    write_atomic(path, changed)
    return path, True


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
    auto = commands.add_parser("autoload", help="load jupyter_llm in every IPython kernel (no %%load_ext needed)",
                               description="Add `c.InteractiveShellApp.extensions.append(\"jupyter_llm\")` to "
                                           "the IPython profile's ipython_config.py, so every new kernel loads "
                                           "the extension.")
    auto.add_argument("--profile", default="default", help="IPython profile (default: default)")
    auto.add_argument("--remove", action="store_true", help="take the line out again")
    check = commands.add_parser("doctor", help="check the settings, the gateway, the key and the models",
                                description="Check, line by line, whether this machine can use the gateway: "
                                            "settings and where they came from, network and proxy, key, quota, "
                                            "models, one tiny chat, embeddings, rerank, versions.")
    check.add_argument("-m", "--model", help="the chat model to try (default: the configured one)")
    check.add_argument("--timeout", type=float, default=doctor.LIMIT,
                       help=f"seconds each request may take (default {doctor.LIMIT:g})")
    args = parser.parse_args(argv)
    if args.command == "autoload":
        return _autoload(args.profile, args.remove)
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
            print(f"jupyter-llm record: {path} failed; the notebook and its cassette were left as they were. "
                  f"Fix the cell and record again.\n{exc}", file=sys.stderr)
            return 1
        lines = len(Cassette(cassette, "replay")) if cassette.exists() else 0
        print(f"recorded {path} -> {cassette.name} ({lines} exchanges)", file=sys.stderr)
    return 0


def _autoload(profile: str, remove: bool) -> int:
    path, changed = autoload(profile, remove=remove)
    if remove:
        print(f"jupyter-llm: {'no longer loaded' if changed else 'was not loaded'} in every kernel ({path}).")
    else:
        print(f"jupyter-llm: {'now loads' if changed else 'already loads'} in every new kernel of IPython profile "
              f"{profile!r} ({path}). Restart a running kernel to get it; undo with `jupyter-llm autoload --remove`.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
