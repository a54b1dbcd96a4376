"""pca() and plot_embeddings(): numpy PCA, matplotlib only when plotting."""
from __future__ import annotations

import sys

import numpy as np
import pandas as pd
import pytest

from jupyter_llm.data.projection import pca, plot_embeddings
from jupyter_llm.data.vectors import VectorArray


def clusters(n=60, d=64, seed=1):
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, d)) * 5
    labels = np.repeat([0, 1, 2], n // 3)
    return (centres[labels] + rng.normal(size=(n, d))).astype(np.float32), labels


def test_pca_separates_clusters_and_is_deterministic():
    x, labels = clusters()
    xy = pca(x)
    assert xy.shape == (60, 2)
    centres = np.array([xy[labels == k].mean(axis=0) for k in range(3)])
    spread = max(xy[labels == k].std(axis=0).max() for k in range(3))
    gaps = [np.linalg.norm(centres[i] - centres[j]) for i in range(3) for j in range(i + 1, 3)]
    assert min(gaps) > 3 * spread
    assert np.array_equal(pca(x), xy)
    # Matches the covariance eigenvectors up to sign.
    centred = x - x.mean(axis=0)
    _, vecs = np.linalg.eigh(np.cov(centred.T.astype(np.float64)))
    ref = centred @ vecs[:, ::-1][:, :2]
    assert np.allclose(np.abs(xy), np.abs(ref), atol=1e-3)


def test_pca_keeps_missing_rows_missing():
    x, _ = clusters(n=9)
    x[4] = np.nan
    xy = pca(x)
    assert np.isnan(xy[4]).all() and not np.isnan(np.delete(xy, 4, axis=0)).any()
    assert np.isnan(pca(np.full((2, 3), np.nan, np.float32))).all()


def frame():
    x, labels = clusters()
    return pd.DataFrame({"text": [f"t{i}" for i in range(60)], "topic": np.array(["a", "b", "c"])[labels],
                         "embedding": VectorArray(x)})


def test_plot_embeddings_draws_one_series_per_colour():
    pytest.importorskip("matplotlib", reason="plotting needs matplotlib")
    import matplotlib

    matplotlib.use("Agg")
    ax = plot_embeddings(frame(), color="topic", label="text")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["a", "b", "c"]
    assert len(ax.collections) == 3 and len(ax.texts) == 60
    assert ax.get_xlabel() == "PC 1"


def test_without_matplotlib_the_error_says_how_to_get_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match="pip install matplotlib"):
        plot_embeddings(frame())
