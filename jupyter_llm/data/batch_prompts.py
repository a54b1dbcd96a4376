"""The prompts of ``map()``: one per row of a DataFrame, Series or list, filled from a template.

A DataFrame's template names its columns (``{text}``); a Series or list fills ``{}`` or
``{text}`` with the value, or puts the value after a prompt with no placeholder. A prompt
may also be a function of the row (a dict) that returns the text.

Example::

    index, texts = prompts(pd.DataFrame({"text": ["Great fit."]}), "Sentiment: {text}")
"""
from __future__ import annotations

from .. import errors


def prompts(data, prompt) -> tuple:
    """``(index, texts)``: the labels of ``data``'s rows and each row's prompt, in order."""
    index, records, kind = _rows(data)
    return index, [_fill(prompt, record, kind) for record in records]


def _rows(data):
    """The index, the rows as dicts, and what kind of input they came from."""
    import pandas as pd  # heavy: imported on first use

    if isinstance(data, pd.DataFrame):
        return data.index, data.to_dict("records"), "frame"
    if isinstance(data, pd.Series):
        name = data.name if isinstance(data.name, str) else "text"
        return data.index, [{name: v, "text": v} for v in data], "series"
    if isinstance(data, (str, bytes)) or not hasattr(data, "__iter__"):
        raise errors.ConfigError(
            f"map() needs a DataFrame, a Series or a list of values, not {type(data).__name__}; "
            f"for one prompt use jupyter_llm.ask().")
    values = list(data)
    return pd.RangeIndex(len(values)), [{"text": v} for v in values], "list"


def _fill(prompt, record: dict, kind: str) -> str:
    if callable(prompt):
        text = prompt(record)
    elif not isinstance(prompt, str) or not prompt.strip():
        raise errors.ConfigError("map() needs a prompt template (text), e.g. \"Classify: {text}\".")
    elif kind == "frame":
        try:
            text = prompt.format_map(record)
        except KeyError as exc:
            raise errors.ConfigError(
                f"The prompt names {{{exc.args[0]}}}, which is not a column; columns: "
                f"{', '.join(str(name) for name in record)}. Write {{{{ and }}}} for literal braces.") from exc
        except (IndexError, ValueError) as exc:
            raise errors.ConfigError(f"The prompt is not a valid template ({exc}): name columns as "
                                     f"{{column}}, and write {{{{ and }}}} for literal braces.") from exc
    else:
        value = record["text"]
        if "{" not in prompt.replace("{{", ""):
            text = f"{prompt.rstrip()}\n\n{value}"
        else:
            try:
                text = prompt.format(value, **record)
            except (KeyError, IndexError, ValueError) as exc:
                raise errors.ConfigError(f"The prompt is not a valid template ({exc!r}): use {{}} or "
                                         f"{{text}} for the value, {{{{ and }}}} for literal braces.") from exc
    if not isinstance(text, str):
        raise errors.ConfigError(f"The prompt function returned {type(text).__name__}, not text.")
    return text
