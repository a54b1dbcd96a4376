"""A first look at embeddings: :func:`pca` in numpy and :func:`plot_embeddings` (matplotlib, optional)."""
from __future__ import annotations

import numpy as np

from .embeddings import vectors

#: Rows used to fit the projection; every row is then projected (keeps 100k-row frames quick).
FIT_ROWS = 5000


def pca(matrix, n_components: int = 2, *, seed: int = 0) -> np.ndarray:
    """Project ``matrix`` (n, d) onto its first ``n_components`` principal axes; rows with NaN stay NaN.

    Deterministic: axes are fitted on at most ``FIT_ROWS`` rows (a seeded sample) and
    their signs fixed so the largest loading is positive.

    Example::

        xy = pca(jupyter_llm.vectors(df))      # (n, 2)
    """
    x = np.asarray(matrix, dtype=np.float32)
    if x.ndim != 2:
        raise ValueError(f"pca() needs a 2-D array, not shape {x.shape}")
    out = np.full((x.shape[0], n_components), np.nan, dtype=np.float64)
    ok = ~np.isnan(x).any(axis=1)
    rows = np.flatnonzero(ok)
    if rows.size == 0:
        return out
    fit = rows
    if rows.size > FIT_ROWS:
        fit = np.sort(np.random.default_rng(seed).choice(rows, FIT_ROWS, replace=False))
    sample = x[fit].astype(np.float64)
    mean = sample.mean(axis=0)
    centred = sample - mean
    # SVD of the (at most FIT_ROWS x d) sample: its right singular vectors are the axes.
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    axes = vt[:n_components]
    if axes.shape[0] < n_components:
        axes = np.vstack([axes, np.zeros((n_components - axes.shape[0], x.shape[1]))])
    signs = np.sign(axes[np.arange(n_components), np.abs(axes).argmax(axis=1)])
    axes *= np.where(signs == 0, 1, signs)[:, None]
    out[rows] = (x[rows] - mean) @ axes.T
    return out


def plot_embeddings(frame, color: str | None = None, label: str | None = None, *, column: str = "embedding",
                    ax=None, title: str | None = None):
    """A 2-D PCA scatter of an embedding frame, for a first look at clusters; returns the Axes.

    ``color`` names a column whose values colour the points (with a legend); ``label``
    names a column whose values are written next to the points (up to 200 of them).
    Needs matplotlib (``pip install matplotlib``).

    Example::

        df = jupyter_llm.embed(snippets, column="text")
        jupyter_llm.plot_embeddings(df, color="topic")
    """
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            "plot_embeddings() draws with matplotlib, which is not installed: pip install matplotlib"
        ) from exc

    xy = pca(vectors(frame, column))
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 5))
    if color is not None:
        groups = frame[color].astype(object).where(frame[color].notna(), "(missing)")
        for value in dict.fromkeys(groups.tolist()):
            mask = (groups == value).to_numpy()
            ax.scatter(xy[mask, 0], xy[mask, 1], s=24, alpha=0.8, label=str(value))
        ax.legend(title=color, fontsize="small", loc="best")
    else:
        ax.scatter(xy[:, 0], xy[:, 1], s=24, alpha=0.8)
    if label is not None:
        for (px, py), text in list(zip(xy, frame[label].astype(str)))[:200]:
            if not np.isnan(px):
                ax.annotate(text[:30], (px, py), fontsize=7, alpha=0.8, xytext=(3, 3), textcoords="offset points")
    model = frame.attrs.get("model")
    ax.set_title(title or f"Embeddings{f' ({model})' if model else ''}, first two principal components")
    ax.set_xlabel("PC 1")
    ax.set_ylabel("PC 2")
    return ax
