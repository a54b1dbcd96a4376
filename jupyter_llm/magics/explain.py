"""``%llm_explain``: the last error and the cell that raised it, sent to a model for an explanation."""
from __future__ import annotations

import sys

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments

from .. import errors
from ..api import shown
from ..core.chat import send
from ..core.messages import build_messages
from .error_log import ErrorLog, error_text
from .options import parse_options, thinking

_EXPLAIN = """A cell in my Jupyter notebook failed. Explain briefly what went wrong, then show the corrected code.

The cell:
```python
{code}
```

The error:
```
{error}
```"""


@magics_class
class ExplainMagics(Magics):
    """``%llm_explain``."""

    @magic_arguments()
    @argument("-m", "--model", help="model name (default: session.model)")
    @thinking
    @line_magic
    def llm_explain(self, line: str):
        """Send the last error and the cell that raised it to the model, for an explanation and a fix.

        Example::

            %llm_explain -m qwen3-32b --no-think
        """
        args = parse_options(self.llm_explain, line)
        code, error = _last_error(self.shell)
        prompt = _EXPLAIN.format(code=code.strip(), error=error)
        messages = build_messages(prompt)
        try:
            reply = shown(lambda on_event: send(messages, model=args.model, think=args.think, on_event=on_event))
        except (errors.LLMError, KeyboardInterrupt) as exc:
            if getattr(exc, "reply", None) is not None:
                self.shell.user_ns["_llm"] = exc.reply
            raise
        self.shell.user_ns["_llm"] = reply


def _last_error(shell) -> tuple[str, str]:
    log = shell.user_ns.get("Err")
    last = log.last() if isinstance(log, ErrorLog) else None
    if last is not None:
        return last
    exc = getattr(sys, "last_value", None)
    if exc is None:
        raise UsageError("No error to explain yet: run the cell that fails, then %llm_explain.")
    return "(the cell is not known: the error came before %load_ext jupyter_llm)", error_text(exc)


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(ExplainMagics)
