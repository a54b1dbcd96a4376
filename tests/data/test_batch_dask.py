"""map() over a Dask DataFrame on a local cluster (two worker processes) against the emulator."""
from __future__ import annotations

import pandas as pd
import pytest

import jupyter_llm

dd = pytest.importorskip("dask.dataframe")
distributed = pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
                                  worker_dashboard_address=None) as local, distributed.Client(local) as client:
        yield client


def test_partitions_run_on_the_workers_with_the_same_schema_columns(llm, emulator, cluster):
    frame = pd.DataFrame({"review": [f"review number {i}" for i in range(12)]}, index=range(100, 112))
    ddf = dd.from_pandas(frame, npartitions=3)
    lazy = jupyter_llm.map(ddf, "Classify: {review}", model="qwen3-32b", think=False,
                           schema={"label": ["pos", "neg"], "stars": int})
    out = lazy.compute()
    assert list(out.index) == list(frame.index)
    assert list(out.columns) == ["label", "stars", "errors"] and out["errors"].isna().all()
    assert set(out["label"]) <= {"pos", "neg"} and out["stars"].between(1, 5).all()
    sent = [r for r in emulator.requests if r["path"] == "/v1/chat/completions"]
    assert len(sent) == 12 and {r["auth"] for r in sent} == {"bearer"}
    # The same rows answered in this process give the same labels: one request path everywhere.
    local = jupyter_llm.map(frame, "Classify: {review}", model="qwen3-32b", think=False,
                            schema={"label": ["pos", "neg"], "stars": int})
    assert list(local["label"].astype(str)) == list(out["label"])


def test_plain_answers_come_back_as_a_series(llm, cluster):
    ddf = dd.from_pandas(pd.Series([f"text {i}" for i in range(6)], name="t"), npartitions=2)
    out = jupyter_llm.map(ddf, "Summarise: {}", model="qwen3-32b", think=False).compute()
    assert list(out.index) == list(range(6)) and all(f"Summarise: text {i}" in out[i] for i in range(6))


def test_the_settings_shipped_to_workers_never_show_the_key(llm):
    from support import TEST_KEY
    from jupyter_llm.data.batch_dask import _snapshot

    assert TEST_KEY not in repr(_snapshot("qwen3-32b"))
