"""Notebook values in prompts: compact DataFrames and Series, bounded objects, the Err log."""
from __future__ import annotations

import pandas as pd
import pytest

from jupyter_llm.core.messages import interpolate
from jupyter_llm.core.values import MAX_CHARS, prompt_text
from jupyter_llm.magics.explain import ErrorLog, error_text


def test_a_large_frame_becomes_a_short_table_with_shape_and_dtypes():
    frame = pd.DataFrame({"n": range(1_000_000), "label": ["a long label " * 20] * 1_000_000})
    text = prompt_text(frame)
    assert len(text) < 2_500
    lines = text.splitlines()
    assert lines[0] == "|  | n | label |" and lines[2].startswith("| 0 | 0 | a long label")
    assert "DataFrame, shape 1,000,000 × 2; dtypes: n int64, label" in text
    assert "(shown: first 10 of 1,000,000 rows)" in text


def test_wide_frames_say_which_columns_were_cut():
    wide = pd.DataFrame([[1] * 50], columns=[f"c{i}" for i in range(50)])
    text = prompt_text(wide)
    assert "first 20 of 50 columns" in text and "c19" in text and "| c20" not in text


def test_a_small_frame_is_whole_and_says_nothing_was_cut():
    text = prompt_text(pd.DataFrame({"city": ["Paris", "Lima"], "t": [21.5, 18.0]}))
    assert "| 1 | Lima | 18.0 |" in text and "shown" not in text


def test_series_and_long_objects_are_bounded():
    series = pd.Series(range(500), name="units")
    assert "Series 'units', length 500; dtype: int64" in prompt_text(series)
    assert "first 10 of 500 values" in prompt_text(series)
    text = prompt_text(list(range(100_000)))
    assert len(text) < MAX_CHARS + 100 and "more characters cut" in text
    assert prompt_text("a string stays whole " * 1000) == "a string stays whole " * 1000


def test_interpolation_uses_the_compact_form():
    frame = pd.DataFrame({"a": range(50)})
    text = interpolate("Look at {df} and {_}", {"df": frame, "_": frame.a}).text
    assert "DataFrame, shape 50 × 1" in text and "Series 'a', length 50" in text


def test_err_log_says_which_cells_failed():
    log = ErrorLog()
    log.add(3, "1 / 0", "ZeroDivisionError: division by zero")
    log.add(None, "[][1]", "IndexError: list index out of range")  # a cell run without history
    assert interpolate("{Err[3]}", {"Err": log}).text == "ZeroDivisionError: division by zero"
    assert interpolate("{Err[-1]} {Err[-2]}", {"Err": log}).text == (
        "IndexError: list index out of range ZeroDivisionError: division by zero")
    assert interpolate("{Err[4]}", {"Err": log}).missing == ["Err[4]"]
    with pytest.raises(KeyError, match=r"cell 4 raised no error .*\[3\].*Err\[-1\]"):
        log[4]
    assert log.last() == ("[][1]", "IndexError: list index out of range") and ErrorLog().last() is None


def test_error_text_is_the_traceback_a_reader_sees():
    try:
        {}["missing"]
    except KeyError as exc:
        text = error_text(exc)
    assert text.startswith("Traceback (most recent call last):") and text.endswith("KeyError: 'missing'")


def test_error_text_names_installed_packages_without_this_machines_paths():
    try:
        pd.DataFrame({"a": [1]}).loc["missing"]
    except KeyError as exc:
        text = error_text(exc)
    assert 'File "pandas/' in text and "site-packages" not in text
