"""``%llm_config`` and ``%llm_models``: the session's settings and the models the gateway serves."""
from __future__ import annotations

import getpass

from IPython.core.error import UsageError
from IPython.core.magic import Magics, line_magic, magics_class
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

from .. import errors
from ..core.kernel import in_kernel
from ..core.session import catalog, current
from .options import parse_options


@magics_class
class SettingsMagics(Magics):
    """``%llm_config`` and ``%llm_models``."""

    @magic_arguments()
    @argument("--reload", action="store_true", help="re-read the config file and environment")
    @argument("settings", nargs="*", help="NAME=VALUE pairs; 'api_key' alone asks for the key with a hidden prompt")
    @line_magic
    def llm_config(self, line: str):
        """Show the settings (no arguments: an editable panel in a kernel with widgets) or change
        them: ``%llm_config model=qwen3-32b think=false``.

        The API key is never typed into a cell: ``%llm_config api_key`` asks for it with a
        hidden prompt. Settings: base_url, api_key, auth, model, think, soft_think_switch,
        temperature, max_tokens, timeout, max_retries, extra_headers, confirm_tools, max_tool_rounds.
        """
        session = current()
        args = parse_options(self.llm_config, line)
        if args.reload:
            session.reload()
        for item in args.settings:
            name, sep, value = item.partition("=")
            if name == "api_key":
                if sep and value:
                    raise UsageError(
                        "Not set: a key typed into a cell is saved with the notebook and in the history. "
                        "Delete it from this cell, then run %llm_config api_key and paste the key at the "
                        "hidden prompt, or set JUPYTER_LLM_API_KEY."
                    )
                session.api_key = getpass.getpass("API key (hidden): ").strip() or None
                continue
            if not sep:
                raise UsageError(f"Expected NAME=VALUE, got {item!r}. Example: %llm_config model=qwen3-32b")
            try:
                session.set(name, value)
            except (errors.ConfigError, ValueError) as exc:
                raise UsageError(str(exc)) from exc
        if not args.settings:
            display(_settings_view(session))

    @magic_arguments()
    @argument("--refresh", action="store_true", help="ask the gateway again")
    @line_magic
    def llm_models(self, line: str):
        """Show the models the gateway serves and what each can do (context, tools, thinking, vision)."""
        args = parse_options(self.llm_models, line)
        if args.refresh:
            catalog().refresh()
        return catalog().frame()


def _settings_view(session):
    # With a front end that draws widgets, the settings are an editable panel; elsewhere a table.
    if not in_kernel():
        return session
    from ..widgets.settings import SettingsPanel  # ipywidgets: loaded on first use

    return SettingsPanel()


def load_ipython_extension(ipython) -> None:
    """Register these magics (loaded on first use by :func:`jupyter_llm.magics.register`)."""
    ipython.register_magics(SettingsMagics)
