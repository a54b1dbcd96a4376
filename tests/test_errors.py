"""jupyter_llm.errors: every error class is exported, and each says what it is."""
from __future__ import annotations

import inspect
import json
import urllib.parse

import pytest
from support import MIDDLE, OTHER_KEY, TEST_KEY

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


@pytest.mark.parametrize("key", [TEST_KEY, OTHER_KEY])
@pytest.mark.parametrize("shown", [
    lambda k: f"Authorization: Bearer {k}",
    lambda k: repr(f"Bearer {k}\n".encode()),            # httpx's "Illegal header value b'...'"
    lambda k: json.dumps({"message": f"bad token {k}\n"}),  # an error body, JSON-escaped
    lambda k: json.dumps(f"{k}é", ensure_ascii=True),
    lambda k: urllib.parse.quote(k, safe=""),
    lambda k: f"quota exhausted for token {k[:16]}****",  # cut and masked, as gateways echo it
    lambda k: f"token …{k[-12:]}",
])
def test_redact_hides_a_key_in_every_form_it_takes_on_the_way_out(key, shown):
    text = errors.redact(f"before {shown(key)} after", [key + "\n"])  # read from a file: a newline
    assert MIDDLE not in text and key[:8] not in text and key[-8:] not in text
    assert text.startswith("before ") and text.endswith(" after") and errors.HIDDEN in text


def test_redact_leaves_ordinary_text_and_short_overlaps_alone():
    text = "The model sk-less answer: 0123 and JLLM are words; e.g. 7f3a9c2."
    assert errors.redact(text, [TEST_KEY, OTHER_KEY]) == text
    assert errors.redact("a 4-char key abcd", ["abcd"]) == f"a 4-char key {errors.HIDDEN}"
