"""The doctor's checks that need no gateway: the config files, where each setting came from,
the key (masked), the gateway's URL, the proxy variables, the installed versions and the
widget front end.
"""
from __future__ import annotations

import importlib.metadata
import platform
import urllib.parse
import urllib.request

from .config import SETTINGS, config_path
from .doctor_report import Check

#: Versions worth a line: what a maintainer asks for first.
PACKAGES = ("jupyter-llm", "openai", "ipykernel", "ipywidgets", "jupyterlab", "jupyterlab_widgets")


def config_files(session) -> list[Check]:
    """Which config files were read: the system-wide one and the user's own."""
    user = config_path()
    found = (f"system-wide: {session.policy.path or 'none'}\n"
             f"yours: {user}{'' if user.is_file() else ' (not present)'}")
    return [Check("config files", True, found)]


def settings(session) -> list[Check]:
    """Every setting that is not at its default, with where it came from; and the key, masked."""
    lines = [f"{name} = {_shown(session, name)} ({session.origin(name)})" for name in SETTINGS
             if name != "api_key" and session.origin(name) != "default"]
    checks = [Check("settings", True, "\n".join(lines) or "all at their defaults")]
    key, origin = session.api_key, session.origin("api_key")
    if key:
        checks.append(Check("API key", True, f"{masked(key)}, {origin if origin.startswith('set') else 'from ' + origin}"))
    elif session.base_url:
        checks.append(Check("API key", False, "none set",
                            "Set it with %llm_config api_key (a hidden prompt) or JUPYTER_LLM_API_KEY."))
    else:
        checks.append(Check("API key", None, "none set; the built-in emulator needs none"))
    return checks


def masked(key: str | None) -> str:
    """A key as the doctor shows it: its ``sk-`` start, its last four characters and its length,
    enough to tell two keys apart or see a paste cut short, never enough to use it."""
    if not key:
        return "none"
    head = "sk-" if key.startswith("sk-") else ""
    return f"{head}…{key[-4:]} ({len(key)} characters)" if len(key) > 12 else f"set ({len(key)} characters)"


def _shown(session, name: str) -> str:
    # Header values can be credentials of their own: their names say enough.
    if name == "extra_headers":
        return "{" + ", ".join(sorted(session.extra_headers)) + "}"
    return repr(getattr(session, name))


def gateway_url(session, endpoint: str) -> list[Check]:
    """Whether the configured URL parses; ``endpoint`` is where requests go when none is set."""
    url = session.base_url
    if not url:
        return [Check("gateway URL", None, f"none configured: the built-in emulator (a test double) answers "
                       f"at {endpoint}", "Set JUPYTER_LLM_BASE_URL (or base_url in a config file) for the gateway.")]
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [Check("gateway URL", False, f"{url!r} is not a web address",
                      "Give the whole URL, e.g. https://gateway.example.org/v1")]
    hint = "" if parts.path.rstrip("/").endswith("/v1") else " (most gateways' URLs end in /v1)"
    return [Check("gateway URL", True, f"{url}{hint}")]


def proxy(endpoint: str) -> list[Check]:
    """The proxy variables seen, and whether one applies to ``endpoint``.

    The HTTP client (httpx, under the openai SDK) reads the same variables: http_proxy,
    https_proxy, all_proxy and no_proxy, in either case.
    """
    proxies = urllib.request.getproxies_environment()
    if not proxies:
        return [Check("proxy", None, "no proxy variables set: requests go straight to the gateway")]
    seen = ", ".join(f"{name}_proxy={hide_password(value)}" for name, value in sorted(proxies.items()))
    host = urllib.parse.urlsplit(endpoint).hostname or ""
    used = applying(endpoint)
    route = (f"requests to {host} go through {hide_password(used)}" if used else
             f"requests to {host} go straight to it (no proxy applies, or no_proxy covers it)")
    return [Check("proxy", True, f"{seen}\n{route}; the HTTP client honours these variables")]


def applying(endpoint: str) -> str | None:
    """The proxy that requests to ``endpoint`` go through, from the environment (None: none)."""
    proxies = urllib.request.getproxies_environment()
    parts = urllib.parse.urlsplit(endpoint)
    chosen = proxies.get(parts.scheme) or proxies.get("all")
    if chosen and not urllib.request.proxy_bypass_environment(parts.hostname or "", proxies):
        return chosen
    return None


def hide_password(url: str) -> str:
    """``url`` with any password in it replaced by dots."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=f"•••@{parts.hostname}" + (f":{parts.port}" if parts.port else "")).geturl()


def setup(version=importlib.metadata.version) -> list[Check]:
    """The installed versions, and whether JupyterLab can draw the panels; ``version(name)`` looks
    a distribution up."""
    found = {}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except importlib.metadata.PackageNotFoundError:
            found[name] = None
    listed = ", ".join(f"{name} {found[name] or '(not installed)'}" for name in PACKAGES)
    checks = [Check("versions", True, f"Python {platform.python_version()}, {listed}")]
    widgets, front = found["ipywidgets"], found["jupyterlab_widgets"]
    if front is None:
        checks.append(Check("widgets", False, "jupyterlab_widgets is not installed here: panels show as text",
                            "pip install jupyterlab_widgets in the environment JupyterLab runs from."))
    elif widgets and widgets.split(".")[0] == "8" and not front.startswith("3."):
        checks.append(Check("widgets", False, f"ipywidgets {widgets} needs jupyterlab_widgets 3, not {front}",
                            "pip install 'jupyterlab_widgets>=3,<4'"))
    else:
        checks.append(Check("widgets", True, f"jupyterlab_widgets {front}: JupyterLab can draw the panels"))
    return checks
