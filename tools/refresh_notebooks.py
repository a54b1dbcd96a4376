"""Re-record notebooks and their cassettes in place: `make refresh-notebooks`.

Runs `jupyter-llm record` on each notebook the way CI is set up: no gateway configured
(the built-in emulator answers) and no user config file. nbval then replays the cassettes.
"""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from jupyter_llm.cli import main as record


def main(argv: list[str]) -> int:
    for name in [n for n in os.environ if n.startswith(("JUPYTER_LLM_", "OPENAI_"))]:
        del os.environ[name]
    os.environ["JUPYTER_LLM_CONFIG_FILE"] = os.devnull
    os.environ["JUPYTER_LLM_DATA_DIR"] = tempfile.mkdtemp(prefix="jupyter-llm-record-")
    paths = [Path(a) for a in argv] or sorted(Path("notebooks").glob("*.ipynb"))
    return record(["record", *map(str, paths)])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
