"""``map()``: one prompt over every row of a DataFrame, Series, list or Dask DataFrame.

The rows run in :mod:`.batch_job`; a Dask DataFrame runs per partition (:mod:`.batch_dask`).
"""
from __future__ import annotations

from . import accessor, batch_dask, batch_job


def map(data, prompt, *, model: str | None = None, schema=None, system: str | None = None,
        think: bool | None = None, concurrency: int | None = None, rpm: int | None = None,
        tpm: int | None = None, retries: int | None = None, cache: bool = True, confirm: bool = False,
        progress: bool | None = None, **params):
    """Send ``prompt`` for every row of ``data``; the answers come back aligned to its index.

    ``data`` is a DataFrame (``{column}`` in the template fills from each row), a Series or a
    list (``{}`` or ``{text}`` is the value; with no placeholder the value follows the prompt),
    or a Dask DataFrame (run per partition; ``.compute()`` the result). ``prompt`` may also be
    a function of the row (a dict) returning the text.

    Without ``schema`` the result is a Series of answers. With ``schema`` (a pydantic model, a
    JSON Schema dict or a short form such as ``{"label": ["pos", "neg"], "score": float}``) each
    answer is parsed and checked, and each field becomes a column of a DataFrame. The model's
    ``response_format`` support (catalogue: ``structured``) is used where it has it; otherwise
    (or when the server refuses it) the schema goes into the system prompt and the answer is
    parsed. Identical rows are sent once.

    At most ``concurrency`` rows run at once (default and ceiling: ``session.max_concurrency``,
    shared with every other request of the session); ``rpm``/``tpm`` cap this batch's requests
    and tokens per minute. A failed row gets NaN and its reason in ``result.attrs["errors"]`` (a dict by index label)
    (and an ``errors`` column on a DataFrame result); ``retries`` more tries (default: the
    session's ``max_retries``) are made on 429, 5xx and dropped streams, and that is all a row
    is ever sent. Three connection failures in a row stop the batch with a ConnectionError;
    rows not yet sent stay unsent, and re-running sends them. More than ``session.batch_confirm_over`` requests need
    ``confirm=True``. Interrupting keeps finished rows (returned, and cached: re-running sends
    only the rest). Other keyword arguments go into each request (``temperature``, ``max_tokens``).

    Example::

        reviews = pd.DataFrame({"text": ["Great fit.", "Broke in a week."]})
        labels = jupyter_llm.map(reviews, "Sentiment of this review: {text}",
                                 schema={"label": ["positive", "negative"], "stars": int})
        reviews.join(labels)
    """
    if batch_dask.is_dask(data):
        return batch_dask.map_dask(data, prompt, model=model, schema=schema, system=system, think=think,
                                   concurrency=concurrency, rpm=rpm, tpm=tpm, retries=retries, cache=cache,
                                   confirm=confirm, **params)
    accessor.register()  # df.llm from now on: pandas is in use anyway
    return batch_job.run(data, prompt, model=model, schema=schema, system=system, think=think,
                         concurrency=concurrency, rpm=rpm, tpm=tpm, retries=retries, cache=cache,
                         confirm=confirm, progress=progress, **params)
