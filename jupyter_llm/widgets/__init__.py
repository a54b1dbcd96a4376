"""Widget panels bound to ``jupyter_llm.session``: chat, settings and model comparison.

Each panel runs its replies as asyncio tasks on the kernel's loop, so its buttons keep
working while text streams, and writes only into its own widgets.
"""
from __future__ import annotations

from .chat import ChatPanel
from .compare import ComparePanel, compare
from .settings import SettingsPanel

__all__ = ["ChatPanel", "ComparePanel", "SettingsPanel", "compare"]
