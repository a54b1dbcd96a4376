"""Re-run notebooks in place so their saved outputs are current: `make refresh-notebooks`.

Runs each notebook in a fresh kernel the way nbval and CI do: no gateway configured
(the built-in emulator answers) and no user config file.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

import nbclient
import nbformat


def refresh(path: Path) -> None:
    notebook = nbformat.read(path, as_version=4)
    nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    ).execute()
    nbformat.write(notebook, path)
    print(f"refreshed {path}")


def main(argv: list[str]) -> None:
    for name in [n for n in os.environ if n.startswith(("JUPYTER_LLM_", "OPENAI_"))]:
        del os.environ[name]
    os.environ["JUPYTER_LLM_CONFIG_FILE"] = os.devnull
    paths = [Path(a) for a in argv] or sorted(Path("notebooks").glob("*.ipynb"))
    for path in paths:
        refresh(path)


if __name__ == "__main__":
    main(sys.argv[1:])
