"""nbval runs these notebooks in replay mode (see the Makefile); tell each kernel its notebook.

Jupyter Server gives a kernel its notebook's path in ``JPY_SESSION_NAME``; nbval does not,
so it is set here before each notebook's kernel starts (the kernel inherits it), and the
kernel finds the cassette beside the notebook.
"""
import os

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    if str(item.fspath).endswith(".ipynb"):
        os.environ["JPY_SESSION_NAME"] = str(item.fspath)
