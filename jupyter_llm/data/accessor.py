"""``df.llm.map(...)`` and ``series.llm.map(...)``: the pandas accessor for :func:`jupyter_llm.map`.

Registering an accessor needs pandas, and ``import jupyter_llm`` / ``%load_ext`` must not
import it (it costs far more than the extension itself). So ``llm`` is registered when
``jupyter_llm.map`` is first called, and by the magics once the notebook has imported
pandas (see :mod:`jupyter_llm.magics`).
"""
from __future__ import annotations

import threading

from . import batch_job

_lock = threading.Lock()
_registered = False


class LLMAccessor:
    """``obj.llm``: jupyter-llm on a DataFrame or a Series.

    Example::

        reviews.llm.map("Classify the sentiment of: {text}", schema={"label": ["pos", "neg"]})
        reviews["text"].llm.map("Summarise in five words: {}")
    """

    def __init__(self, obj):
        self._obj = obj

    def map(self, prompt, **kwargs):
        """:func:`jupyter_llm.map` over this object's rows (same arguments, same result)."""
        return batch_job.run(self._obj, prompt, **kwargs)


def register() -> None:
    """Register ``llm`` on DataFrame and Series (once; imports pandas)."""
    global _registered
    with _lock:
        if _registered:
            return
        import pandas as pd

        pd.api.extensions.register_dataframe_accessor("llm")(LLMAccessor)
        pd.api.extensions.register_series_accessor("llm")(LLMAccessor)
        _registered = True
