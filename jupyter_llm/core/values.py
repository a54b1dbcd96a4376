"""Notebook values as prompt text: compact DataFrames and bounded objects.

A value interpolated into a prompt must never blow the context silently: a DataFrame
becomes a table of its first rows with its shape and dtypes, and any other long value is
cut, each time with a note of what was left out, so the model (and the user reading the
request) knows the text is partial.
"""
from __future__ import annotations


#: Rows of a DataFrame or Series shown in a prompt.
MAX_ROWS = 10
#: Columns of a DataFrame shown in a prompt.
MAX_COLUMNS = 20
#: Characters kept of any other value's text.
MAX_CHARS = 4_000
#: Characters of a cell value (a long string in a table) shown in a prompt.
MAX_CELL = 60


def prompt_text(value) -> str:
    """``value`` as bounded prompt text: DataFrames and Series compact, other text cut at MAX_CHARS.

    Example::

        prompt_text(pd.DataFrame({"a": range(100)}))
        # '|    |   a |\\n|---:|----:|\\n|  0 |   0 | ... (first 10 of 100 rows) shape (100, 1); dtypes: a int64'
    """
    if isinstance(value, str):
        return value
    kind = type(value).__module__.split(".")[0], type(value).__name__
    if kind == ("pandas", "DataFrame"):
        return _frame(value)
    if kind == ("pandas", "Series"):
        return _series(value)
    return cut(str(value))


def cut(text: str, limit: int = MAX_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n[… {len(text) - limit:,} more characters cut]"


def _frame(frame) -> str:
    rows, columns = frame.shape
    shown = frame.iloc[:MAX_ROWS, :MAX_COLUMNS]
    table = _table(shown)
    cut = []
    if rows > MAX_ROWS:
        cut.append(f"first {MAX_ROWS} of {rows:,} rows")
    if columns > MAX_COLUMNS:
        cut.append(f"first {MAX_COLUMNS} of {columns:,} columns")
    dtypes = ", ".join(f"{name} {dtype}" for name, dtype in list(frame.dtypes.items())[:MAX_COLUMNS])
    if columns > MAX_COLUMNS:
        dtypes += ", …"
    lines = [table, f"DataFrame, shape {rows:,} × {columns:,}; dtypes: {dtypes}"]
    if cut:
        lines.append(f"(shown: {' and '.join(cut)})")
    return "\n".join(lines)


def _series(series) -> str:
    frame = series.iloc[:MAX_ROWS].to_frame(name=series.name if series.name is not None else "value")
    lines = [_table(frame), f"Series {series.name!r}, length {len(series):,}; dtype: {series.dtype}"]
    if len(series) > MAX_ROWS:
        lines.append(f"(shown: first {MAX_ROWS} of {len(series):,} values)")
    return "\n".join(lines)


def _table(frame) -> str:
    """A Markdown table of ``frame`` (pipe-separated), each cell bounded in width."""
    def cell(value) -> str:
        text = str(value).replace("|", "\\|").replace("\n", " ")
        return text if len(text) <= MAX_CELL else text[: MAX_CELL - 1] + "…"

    header = [cell(frame.index.name or "")] + [cell(c) for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for index, row in zip(frame.index, frame.itertuples(index=False)):
        lines.append("| " + " | ".join([cell(index)] + [cell(v) for v in row]) + " |")
    return "\n".join(lines)
