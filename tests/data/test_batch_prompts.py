"""The prompts of map()'s rows: a template filled from each row, or a function of it."""
from __future__ import annotations

import pandas as pd
import pytest

from jupyter_llm import errors
from jupyter_llm.data.batch_prompts import prompts


def test_a_frame_fills_its_columns_and_keeps_its_index():
    frame = pd.DataFrame({"review": ["Too small", "Fits {well}"], "stars": [2, 5]}, index=["a", "b"])
    index, texts = prompts(frame, "{stars} stars: {review} {{literal}}")
    assert list(index) == ["a", "b"]
    assert texts == ["2 stars: Too small {literal}", "5 stars: Fits {well} {literal}"], "a value's braces stay as written"


def test_a_series_or_list_value_fills_the_placeholder_or_follows_the_prompt():
    assert prompts(pd.Series(["mug"], name="item"), "Describe {item}; again: {}")[1] == ["Describe mug; again: mug"]
    assert prompts(["lamp", "kettle"], "Translate")[1] == ["Translate\n\nlamp", "Translate\n\nkettle"]
    assert prompts(["scarf"], lambda row: row["text"].upper())[1] == ["SCARF"]


@pytest.mark.parametrize("data, prompt, says", [
    (pd.DataFrame({"review": ["x"]}), "Classify: {text}", "which is not a column; columns: review"),
    (["x"], "Classify: {0} {1}", "not a valid template"),
    ("just one text", "Classify: {}", "for one prompt use jupyter_llm.ask()"),
    (["x"], lambda row: 3, "returned int, not text"),
    (["x"], "   ", "needs a prompt template"),
])
def test_bad_templates_and_inputs_say_what_to_write_instead(data, prompt, says):
    with pytest.raises(errors.ConfigError) as caught:
        prompts(data, prompt)
    assert says in str(caught.value)
