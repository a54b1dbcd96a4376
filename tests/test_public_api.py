"""The public API is what jupyter_llm exports: each name resolves and documents itself with an example."""
from __future__ import annotations

import subprocess
import sys

import jupyter_llm


def test_every_exported_name_resolves_with_a_docstring_and_an_example():
    for name in [*jupyter_llm.__all__, *jupyter_llm._LAZY]:
        value = getattr(jupyter_llm, name)
        if name == "__version__":
            continue
        doc = (type(value).__doc__ if name == "session" else value.__doc__) or ""
        assert doc.strip(), name
        if name not in ("load_ipython_extension",):
            assert "Example" in doc, f"{name} has no example"


def test_importing_the_package_stays_light():
    code = ("import sys, jupyter_llm; "
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'openai', 'pandas', 'numpy', 'ipywidgets', 'IPython', 'httpx2'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stdout + out.stderr


def test_unknown_attribute_is_an_attribute_error():
    try:
        jupyter_llm.nope
    except AttributeError as exc:
        assert "nope" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_a_star_import_leaves_python_builtins_alone():
    import builtins

    assert not set(jupyter_llm.__all__) & set(dir(builtins))
    assert "map" in dir(jupyter_llm) and jupyter_llm.map.__module__ == "jupyter_llm.data.batch"
