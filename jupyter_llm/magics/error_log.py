"""``{Err[n]}``: the error text of each notebook cell that failed, kept for prompts and ``%llm_explain``.

Installed by ``%load_ext``; light on purpose (no chat machinery), since every kernel that
loads the extension pays for it.
"""
from __future__ import annotations

import re
import traceback

from ..core.notes import note
from ..core.values import MAX_CHARS, cut


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
    return cut(_INSTALLED.sub('File "', _CELL_FILE.sub("Cell", text)), MAX_CHARS)


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
            note("the notebook already has a variable named Err; {Err[n]} uses it as it is.")
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
