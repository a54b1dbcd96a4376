"""rerank() against the emulator over real HTTP, in both answer shapes."""
from __future__ import annotations

import pandas as pd
import pytest

from jupyter_llm import errors
from jupyter_llm.data.rerank import parse, rerank

DOCS = ["a graphics processor runs CUDA kernels", "an apple is a fruit", "GPU memory and CUDA cores",
        "bananas are yellow fruit"]


def rerank_bodies(emulator):
    return [r["body"] for r in emulator.requests if r["path"].endswith("/rerank")]


@pytest.mark.parametrize("shape", ["vllm", "sglang"])
def test_both_answer_shapes_give_the_same_frame(llm, emulator, shape):
    llm.extra_headers = {"X-Emulator": f"rerank={shape}"}
    ranked = rerank("CUDA GPU", DOCS)
    assert list(ranked.columns) == ["document", "score"] and len(ranked) == 4
    assert ranked["score"].is_monotonic_decreasing and ranked["score"].between(0, 1).all()
    assert set(ranked.index[:2]) == {0, 2}
    assert ranked.loc[1, "document"] == DOCS[1]
    body = rerank_bodies(emulator)[-1]
    assert body == {"model": "bge-reranker-v2-m3", "query": "CUDA GPU", "documents": DOCS}


def test_shapes_agree_exactly(llm):
    llm.extra_headers = {"X-Emulator": "rerank=vllm"}
    a = rerank("yellow fruit", DOCS)
    llm.extra_headers = {"X-Emulator": "rerank=sglang"}
    b = rerank("yellow fruit", DOCS)
    pd.testing.assert_frame_equal(a, b)


def test_original_index_top_n_and_missing_documents(llm, emulator, capfd):
    docs = pd.Series([DOCS[0], None, DOCS[1], float("nan"), DOCS[2]], index=list("vwxyz"))
    ranked = rerank("CUDA GPU", docs, top_n=2)
    assert list(ranked.index) in (["v", "z"], ["z", "v"]) and len(ranked) == 2
    assert rerank_bodies(emulator)[-1]["documents"] == [DOCS[0], DOCS[1], DOCS[2]]
    assert rerank_bodies(emulator)[-1]["top_n"] == 2
    assert "2 missing documents" in capfd.readouterr().err
    frame = pd.DataFrame({"body": DOCS}, index=[10, 20, 30, 40])
    assert set(rerank("fruit", frame, column="body").index) == {10, 20, 30, 40}


def test_errors(llm):
    with pytest.raises(errors.ConfigError):
        rerank("  ", DOCS)
    with pytest.raises(errors.ConfigError, match="top_n"):
        rerank("q", DOCS, top_n=0)
    with pytest.raises(errors.ConfigError, match="column"):
        rerank("q", pd.DataFrame({"t": DOCS}))
    with pytest.raises(errors.BadRequest, match="does not support rerank"):
        rerank("q", DOCS, model="Qwen3-Embedding-8B")
    with pytest.raises(errors.ModelNotFound):
        rerank("q", DOCS, model="no-such-reranker")
    assert rerank("q", [None]).empty


def test_parse_rejects_unknown_shapes():
    assert parse({"results": [{"index": 1, "relevance_score": 0.5}]}, 2) == [(1, 0.5)]
    assert parse([{"index": 0, "score": 0.25, "document": "x"}], 1) == [(0, 0.25)]
    with pytest.raises(errors.GatewayError):
        parse({"oops": 1}, 1)
    with pytest.raises(errors.GatewayError):
        parse([{"index": 5, "score": 0.1}], 2)
