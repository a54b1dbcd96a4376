"""Notebook values as prompt text: compact DataFrames, bounded objects, and ``Err[n]``.

A value interpolated into a prompt must never blow the context silently: a DataFrame
becomes a table of its first rows with its shape and dtypes, and any other long value is
cut, each time with a note of what was left out, so the model (and the user reading the
request) knows the text is partial.
"""
from __future__ import annotations

import re
import sys
import traceback

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
    return _cut(str(value))


def _cut(text: str, limit: int = MAX_CHARS) -> str:
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


class ErrorLog(dict):
    """The error text of each cell that failed, by execution count: ``{Err[3]}`` in a prompt.

    ``Err[-1]`` is the most recent error (``Err[-2]`` the one before), which also works
    where cells run without history and so have no number (nbval, some front ends).
    Filled by a ``post_run_cell`` hook, which runs beside any exception handler another
    extension installed instead of replacing it.

    Example::

        %%llm
        Why does this fail? {In[3]} gives {Err[3]}
    """

    def __init__(self, *args, **kw):
        super().__init__(*args, **kw)
        #: ``(execution count or None, cell source, error text)`` of every failure, oldest first.
        self.history: list[tuple[int | None, str, str]] = [(count, "", text) for count, text in self.items()]

    def __missing__(self, key):
        if isinstance(key, int) and -len(self.history) <= key < 0:
            return self.history[key][2]
        raise KeyError(f"cell {key} raised no error (Err holds the cells that failed: {sorted(self)}, "
                       f"and Err[-1] is the latest error)")

    def add(self, count: int | None, source: str, text: str) -> None:
        """Record that the cell ``source`` (number ``count``, if it has one) raised ``text``."""
        if count is not None:
            self[count] = text
        self.history.append((count, source, text))

    def last(self) -> tuple[str, str] | None:
        """The source and error text of the most recent failure."""
        if not self.history:
            return None
        _, source, text = self.history[-1]
        return source, text


# A notebook cell's code lives in a temporary file named by the kernel's process id; the
# model needs only "the cell", and a stable name keeps a re-run's prompt the same.
_CELL_FILE = re.compile(r'File "[^"]*(?:ipykernel_\d+[/\\]\d+\.py|<ipython-input-[\w-]+>)"')


_INSTALLED = re.compile(r'File "[^"]*[/\\](?:site|dist)-packages[/\\]')


def error_text(exc: BaseException, limit: int = 12) -> str:
    """The error as a reader sees it: the last ``limit`` frames of the traceback and the message.

    The shell's own frames (IPython running the cell) are left out, and installed packages
    are named from their package directory, so the text holds no path of this machine.
    """
    tb = exc.__traceback__
    while tb is not None and _in_ipython(tb.tb_frame.f_code.co_filename):
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb, limit=-limit)).rstrip()
    return _cut(_INSTALLED.sub('File "', _CELL_FILE.sub("Cell", text)), MAX_CHARS)


def _in_ipython(filename: str) -> bool:
    parts = re.split(r"[/\\]", filename)
    return "IPython" in parts[-3:-1]


def _record(shell, log: ErrorLog):
    def post_run_cell(result) -> None:
        # A syntax error stops the cell before it runs: explaining one is just as useful.
        exc = result.error_in_exec or result.error_before_exec
        if exc is None:
            return
        source = getattr(result.info, "raw_cell", None) or ""
        log.add(result.execution_count, source, error_text(exc))

    return post_run_cell


def install(shell) -> None:
    """Keep ``Err`` in the user namespace up to date (a ``post_run_cell`` hook; idempotent)."""
    log = shell.user_ns.get("Err")
    if not isinstance(log, ErrorLog):
        if "Err" in shell.user_ns:
            print("jupyter-llm: the notebook already has a variable named Err; {Err[n]} uses it as it is.",
                  file=sys.stderr)
            return
        log = shell.user_ns["Err"] = ErrorLog()
        shell.user_ns_hidden["Err"] = log  # not listed by %who, like In and Out
    if getattr(shell, "_jupyter_llm_err_hook", None) is None:
        hook = _record(shell, log)
        shell.events.register("post_run_cell", hook)
        shell._jupyter_llm_err_hook = hook


def uninstall(shell) -> None:
    """Remove the hook ``install`` added (``%unload_ext``)."""
    hook = getattr(shell, "_jupyter_llm_err_hook", None)
    if hook is not None:
        shell.events.unregister("post_run_cell", hook)
        shell._jupyter_llm_err_hook = None
