"""What the magics share: their common options, reading a magic's line, and a cell as a prompt."""
from __future__ import annotations

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, parse_argstring

from ..core.messages import interpolate
from ..core.notes import note


def thinking(magic):
    """``--think`` / ``--no-think`` (None when neither is given: the session's setting)."""
    magic = argument("--no-think", dest="think", action="store_const", const=False,
                     help="switch thinking off (models with a thinking switch, e.g. Qwen3)")(magic)
    return argument("--think", dest="think", action="store_const", const=True, default=None,
                    help="ask the model to think (reasoning shown in a collapsible panel)")(magic)


def cell_prompt(cell: str, namespace: dict, magic: str) -> str:
    """The cell's text with ``{name}`` references filled; a note names those left as written."""
    if not cell.strip():
        raise UsageError(f"The cell is empty: write the prompt below the %%{magic} line.")
    filled = interpolate(cell, namespace)
    if filled.missing:
        names = ", ".join("{" + name + "}" for name in filled.missing)
        note(f"no variable for {names}; left as written.")
    return filled.text.strip()


def sampling(args) -> dict:
    """The ``-t`` and ``--max-tokens`` a cell set (unset ones fall back to the session)."""
    return {k: v for k, v in (("temperature", args.temperature), ("max_tokens", args.max_tokens)) if v is not None}


def parse_options(magic, line: str):
    """Parse a magic's options; bad input is a one-line ``UsageError`` that points to ``%magic?``."""
    name = magic.__name__
    try:
        args = parse_argstring(magic, line)
    except UsageError as exc:
        raise UsageError(f"{exc}. See %{name}? for the options.") from exc
    except ValueError as exc:  # shlex: an unclosed quote
        raise UsageError(f"Cannot read the options ({exc}): close the quote. See %{name}? for the options.") from exc
    except SystemExit as exc:  # argparse after --help
        raise UsageError(f"See %{name}? for the options.") from exc
    for key, value in vars(args).items():
        # IPython splits the line keeping quotes, so -s 'Be brief.' would send the quotes too.
        if isinstance(value, str) and len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            setattr(args, key, value[1:-1])
    output = getattr(args, "output", None)
    if output is not None and not output.isidentifier():
        raise UsageError(f"-o {output}: the name must be a Python variable name, e.g. -o answer.")
    return args
