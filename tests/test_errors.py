"""jupyter_llm.errors: every error class is exported, and each says what it is."""
from __future__ import annotations

import inspect

from jupyter_llm import errors


def test_every_public_class_and_function_is_in_all():
    public = {name for name, value in vars(errors).items()
              if not name.startswith("_") and (inspect.isclass(value) or inspect.isfunction(value))
              and getattr(value, "__module__", "") == errors.__name__}
    assert public == set(errors.__all__)


def test_every_error_documents_itself_and_is_drawn_in_the_tree():
    for name in errors.__all__:
        value = getattr(errors, name)
        assert (value.__doc__ or "").strip(), name
        if inspect.isclass(value):
            assert name in errors.__doc__, f"{name} is missing from the tree in the module docstring"
