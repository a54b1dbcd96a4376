"""Prompt interpolation and the thinking switch."""
from __future__ import annotations

import pandas as pd
import pytest

from jupyter_llm import errors
from jupyter_llm.core.catalog import describe
from jupyter_llm.core.messages import build_messages, interpolate
from jupyter_llm.core.request import apply_thinking


@pytest.fixture
def ns():
    return {"df": pd.DataFrame({"a": [1, 2, 3]}), "name": "Ada", "d": {"k": "v"}, "In": ["", "x = 1", "df.head()"]}


@pytest.mark.parametrize("template, expected", [
    ("Hello {name}", "Hello Ada"),
    ("shape {df.shape}", "shape (3, 1)"),
    ("rows {df.shape[0]}", "rows 3"),
    ("key {d['k']}", "key v"),
    ("cell {In[2]}", "cell df.head()"),
    ("literal {{name}}", "literal {name}"),
])
def test_references_are_filled(ns, template, expected):
    assert interpolate(template, ns).text == expected


@pytest.mark.parametrize("text", [
    'json {"a": 1, "b": [1, 2]}',
    "dict comp {k: v for k, v in d.items()}",
    "set {1, 2}",
    "f-string f'{x!r}' and {x + 1} and {}",
    "def f():\n    return {'a': {'b': 1}}",
    "latex $\\frac{a}{b}$ and \\begin{align}",
    "unbalanced { and } and {{",
])
def test_braces_that_are_not_references_stay(ns, text):
    assert interpolate(text, ns).text == text


def test_missing_names_are_left_and_reported(ns):
    result = interpolate("Use {nothere} and {df.nope} with {name}", ns)
    assert result.text == "Use {nothere} and {df.nope} with Ada"
    assert result.missing == ["nothere", "df.nope"]


def test_messages_have_system_first():
    assert build_messages("hi", system="be brief") == [
        {"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]


def test_thinking_switch_sends_chat_template_kwargs():
    body = {"messages": build_messages("hi")}
    assert apply_thinking(body, describe("qwen3-32b"), False) is None
    assert body["chat_template_kwargs"] == {"enable_thinking": False}
    assert body["messages"][-1]["content"] == "hi"


def test_soft_switch_appends_no_think():
    body = {"messages": build_messages("hi")}
    apply_thinking(body, describe("qwen3-32b"), False, soft=True)
    assert body["messages"][-1]["content"] == "hi /no_think"


def test_think_on_a_model_without_thinking_is_refused_before_sending():
    with pytest.raises(errors.CapabilityError, match="does not think"):
        apply_thinking({"messages": []}, describe("qwen72b-awq"), True)


def test_no_think_on_a_model_without_switch_is_a_notice():
    body = {"messages": build_messages("hi")}
    assert "no thinking switch" in apply_thinking(body, describe("qwq-32b"), False)
    assert "chat_template_kwargs" not in body
