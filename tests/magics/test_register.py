"""``%load_ext``: every magic is declared with its kind and the module that registers it."""
from __future__ import annotations

import importlib
import inspect

from IPython.core.magic import Magics

from jupyter_llm.magics import MAGICS


def test_the_declared_magics_are_exactly_those_the_modules_register():
    declared = {(name, kind) for name, (kind, _) in MAGICS.items()}
    registered = set()
    for module in {module for _, module in MAGICS.values()}:
        loaded = importlib.import_module(module)
        for cls in vars(loaded).values():
            if inspect.isclass(cls) and issubclass(cls, Magics) and cls.__module__ == module:
                for kind, names in cls.magics.items():
                    registered |= {(name, kind) for name in names}
                    assert all(MAGICS[name][1] == module for name in names), module
    assert registered == declared


def test_load_ext_imports_no_chat_machinery(tmp_path):
    import subprocess
    import sys

    code = ("from IPython.core.interactiveshell import InteractiveShell\n"
            "shell = InteractiveShell.instance()\n"
            "shell.run_line_magic('load_ext', 'jupyter_llm')\n"
            "import sys\n"
            "print(sorted(m for m in sys.modules if m.startswith(('jupyter_llm.core.chat', 'jupyter_llm.data', "
            "'openai', 'pandas', 'ipywidgets', 'numpy'))))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "[]"
