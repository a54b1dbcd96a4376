"""The settings panel: ``jupyter_llm.session`` as a form, both ways.

A change in the panel is a change of the session at once (``%%llm`` and the Python API
see it); a change made elsewhere (``%llm_config``, an attribute) shows in the panel. The
key field is a password field that is emptied as soon as the key is taken, so the key
is never echoed back, never kept in widget state and never saved with the notebook.
Under the key, the key's quota left at the gateway, where the gateway reports it; the
model list holds the allowed models only.
"""
from __future__ import annotations

import asyncio
from html import escape

import ipywidgets as widgets
from traitlets import Unicode

from .. import errors
from ..core import quota
from ..core.client import Client
from ..core.session import catalog, current
from ._common import chat_models, css, fallback_bundle, running_loop

_LABEL = {"description_width": "110px"}
_FIELD = widgets.Layout(width="420px")
_THINK = (("model's default", "none"), ("on", "true"), ("off", "false"))
#: Settings shown as text fields: empty means None (the server's default).
_TEXT = ("temperature", "max_tokens", "timeout", "max_retries")


class _KeyField(widgets.Password):
    """A password field whose value the kernel never sends back (ipywidgets echoes by default)."""

    value = Unicode(help="the key while it is being taken; emptied at once").tag(sync=True, echo_update=False)


class SettingsPanel(widgets.VBox):
    """Edit the session: base URL, key (hidden), default model, thinking, temperature, limits,
    and a "Test connection" button that lists the models or shows the error.

    Example::

        jupyter_llm.SettingsPanel()     # or %llm_config with no argument
    """

    def __init__(self, **kwargs):
        session = self._session = current()
        self._updating = False
        self.base_url = widgets.Text(placeholder="built-in emulator", description="Base URL", style=_LABEL,
                                     layout=_FIELD, continuous_update=False)
        self.api_key = _KeyField(description="API key", style=_LABEL, layout=_FIELD,
                                        continuous_update=False)
        self.key_state = widgets.HTML()
        self.quota = widgets.HTML()
        self.model = widgets.Combobox(description="Default model", style=_LABEL, layout=_FIELD,
                                      ensure_option=False, continuous_update=False, placeholder="first served")
        self.think = widgets.Dropdown(options=_THINK, description="Thinking", style=_LABEL)
        self.fields = {name: widgets.Text(description=name.replace("_", " ").capitalize(), style=_LABEL,
                                          continuous_update=False, placeholder="default")
                       for name in _TEXT}
        self.test_button = widgets.Button(description="Test connection", icon="plug")
        self.status = widgets.HTML()

        self._load()
        self.base_url.observe(lambda c: self._apply("base_url", c["new"]), "value")
        self.api_key.observe(self._key_typed, "value")
        self.model.observe(lambda c: self._apply("model", c["new"]), "value")
        self.think.observe(lambda c: self._apply("think", c["new"]), "value")
        for name, field in self.fields.items():
            field.observe(lambda c, name=name: self._apply(name, c["new"]), "value")
        self.test_button.on_click(lambda _: self.test_connection())
        session.observe(self._session_changed)
        self._refresh_models()

        children = (css(), self.base_url, widgets.HBox((self.api_key, self.key_state)), self.quota, self.model,
                    self.think, *self.fields.values(), self.test_button, self.status)
        super().__init__(children, _dom_classes=("jllm-panel", "jllm-settings"), **kwargs)
        self.quota_task = self._refresh_quota()

    def close(self) -> None:
        self._session.unobserve(self._session_changed)
        super().close()

    def test_connection(self):
        """Ask the gateway for its models (in a worker thread); the panel shows them or the error."""
        self._say("Asking the gateway…")
        return running_loop().create_task(self._test())

    async def _test(self) -> list[str]:
        models = catalog(self._session)
        models.refresh()
        try:
            names = await asyncio.get_running_loop().run_in_executor(None, models.chat_models)
        except errors.LLMError as exc:
            self._say(f"{type(exc).__name__}: {exc}", error=True)
            return []
        where = Client(self._session).endpoint(self._session.model).base_url
        self._say(f"Connected to {where}: {len(names)} chat models: {', '.join(names)}.")
        self._refresh_models(names)
        await self._read_quota()
        return names

    def _refresh_quota(self):
        """Ask for the quota in a worker thread, when the kernel's loop runs (None otherwise)."""
        try:
            return running_loop().create_task(self._read_quota())
        except errors.ConfigError:
            return None  # a script without a loop: the panel shows no quota line

    async def _read_quota(self) -> None:
        found = await asyncio.get_running_loop().run_in_executor(None, quota.read, self._session)
        if found is None:
            self.quota.value = ""
            return
        colour = "var(--jp-error-color1, #b00020)" if found.spent else "var(--jp-ui-font-color2, grey)"
        self.quota.value = (f'<span style="color: {colour}; margin-left: 114px">Quota at the gateway: '
                            f"{escape(str(found))}</span>")

    # -- inside -----------------------------------------------------------------------

    def _load(self) -> None:
        session = self._session
        self._updating = True
        try:
            self.base_url.value = session.base_url or ""
            self.model.value = session.model or ""
            self.think.value = {None: "none", True: "true", False: "false"}[session.think]
            for name, field in self.fields.items():
                value = getattr(session, name)
                field.value = "" if value is None else f"{value:g}" if isinstance(value, float) else str(value)
            self.key_state.value = _key_state(session)
        finally:
            self._updating = False

    def _apply(self, name: str, value) -> None:
        if self._updating:
            return
        try:
            self._session.set(name, value)
        except (errors.ConfigError, ValueError) as exc:
            self._say(str(exc), error=True)
            self._load()
            return
        shown = getattr(self._session, name)
        self._say(f"{name} = {shown!r}")

    def _key_typed(self, change) -> None:
        if self._updating or not change["new"]:
            return
        key = change["new"].strip()
        self._updating = True
        try:
            # Taken and forgotten: the field's state (saved with widget state) must not keep it.
            self.api_key.value = ""
        finally:
            self._updating = False
        self._session.api_key = key or None
        self._say("API key set (hidden).")

    def _session_changed(self, change) -> None:
        if change["name"] in ("base_url", "model", "think", "api_key", *_TEXT) and not self._updating:
            self._load()
        if change["name"] in ("base_url", "api_key"):
            self.quota_task = self._refresh_quota()

    def _refresh_models(self, names=None) -> None:
        if names is None:
            names, problem = chat_models()
            if problem:
                self._say(problem, error=True)
        self.model.options = tuple(names)

    def _say(self, text: str, error: bool = False) -> None:
        style = "color: var(--jp-error-color1, #b00020)" if error else "color: var(--jp-ui-font-color2, grey)"
        self.status.value = f'<span style="{style}">{escape(text)}</span>'

    def _repr_mimebundle_(self, **kwargs):
        # Without a kernel (a saved notebook, nbval) the panel reads as the settings table.
        bundle = self._session._repr_mimebundle_()
        return fallback_bundle(self, bundle["text/plain"], bundle["text/html"])


def _key_state(session, html: bool = True) -> str:
    text = "set (hidden)" if session.api_key else "not set"
    return f'<span style="color: var(--jp-ui-font-color2, grey)">key {text}</span>' if html else text
