"""embed(), vectors(), similar() and search() against the emulator over real HTTP."""
from __future__ import annotations

import json
import time
import urllib.request

import numpy as np
import pandas as pd
import pytest

from jupyter_llm import errors
from jupyter_llm.data.embeddings import cache_size, clear_cache, embed, search, similar, vectors
from support import TEST_KEY

MODEL = "Qwen3-Embedding-8B"


def embedding_requests(emulator):
    return [r["body"] for r in emulator.requests if r["path"].endswith("/embeddings")]


def emulator_floats(emulator, texts, **extra):
    """The emulator's own answer in float form, fetched without jupyter-llm (the reference)."""
    body = json.dumps({"model": MODEL, "input": texts, "encoding_format": "float", **extra}).encode()
    request = urllib.request.Request(f"{emulator.url}/embeddings", data=body, method="POST", headers={
        "Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


TEXTS = ["the cat sat on the mat", "a dog chased the cat", "stock markets fell today",
         "bond yields rose sharply", "bake bread with flour and yeast", "a sourdough bread recipe"]


def test_one_row_per_input_with_a_float32_block(llm):
    df = embed(TEXTS)
    assert list(df.columns) == ["text", "embedding"] and list(df["text"]) == TEXTS
    m = vectors(df)
    assert m.shape == (6, 4096) and m.dtype == np.float32 and m.flags.c_contiguous
    assert np.shares_memory(m, df["embedding"].array.block) and m is df["embedding"].array.block
    assert not m.flags.writeable  # the session cache shares these rows
    assert df.attrs == {"model": MODEL, "dimensions": None, "instruction": None}
    assert np.allclose(np.linalg.norm(m, axis=1), 1, atol=1e-5)
    row = df["embedding"].iloc[2]
    assert isinstance(row, np.ndarray) and np.shares_memory(row, m)


def test_requests_go_in_batches_as_base64(llm, emulator):
    embed([f"text number {i}" for i in range(10)], batch_size=3)
    bodies = embedding_requests(emulator)
    # Batches run concurrently, so they may reach the gateway in any order.
    assert sorted(len(b["input"]) for b in bodies) == [1, 3, 3, 3]
    assert all(b["encoding_format"] == "base64" and b["model"] == MODEL for b in bodies)
    assert sorted(t for b in bodies for t in b["input"]) == sorted(f"text number {i}" for i in range(10))


def test_base64_decodes_to_exactly_the_float_answer(llm, emulator):
    reference = emulator_floats(emulator, TEXTS)
    expected = np.array([item["embedding"] for item in reference["data"]], dtype=np.float32)
    assert np.array_equal(vectors(embed(TEXTS)), expected)


def test_a_server_that_sends_floats_is_read_too(llm, emulator):
    from jupyter_llm.data.embeddings import _decode

    reference = emulator_floats(emulator, TEXTS[:2])
    rows = _decode(reference, 2, MODEL)
    assert [r.dtype for r in rows] == [np.float32, np.float32]
    assert np.array_equal(np.vstack(rows), vectors(embed(TEXTS[:2])))


def test_batches_run_concurrently_within_the_limit(llm, emulator):
    # Each request takes 0.3 s; the emulator refuses (429) a 5th request in flight, and retries are off.
    llm.max_retries = 0
    llm.extra_headers = {"X-Emulator": "latency=0.3; max_concurrency=4"}
    texts = [f"sentence {i} about topic {i % 7}" for i in range(16)]
    start = time.perf_counter()
    df = embed(texts, batch_size=2, concurrency=4)
    elapsed = time.perf_counter() - start
    assert len(embedding_requests(emulator)) == 8
    assert elapsed < 8 * 0.3 * 0.6, elapsed  # sequential would take 2.4 s
    llm.extra_headers = {}
    clear_cache()
    assert np.array_equal(vectors(df), vectors(embed(texts, batch_size=16)))  # order kept


def test_rows_stay_aligned_with_the_input_index(llm):
    series = pd.Series(TEXTS, index=[f"doc{i}" for i in (5, 3, 0, 4, 1, 2)], name="body")
    df = embed(series, batch_size=2, concurrency=3)
    assert list(df.index) == list(series.index)
    clear_cache()
    for label, text in series.items():
        assert np.array_equal(df.loc[label, "embedding"], vectors(embed([text]))[0]), label


def test_a_dataframe_needs_its_text_column(llm):
    frame = pd.DataFrame({"id": [10, 11], "body": TEXTS[:2]}, index=[7, 9])
    df = embed(frame, column="body")
    assert list(df.index) == [7, 9] and list(df["text"]) == TEXTS[:2]
    with pytest.raises(errors.ConfigError, match="column="):
        embed(frame)


def test_missing_empty_and_duplicate_inputs(llm, emulator, capfd):
    texts = ["alpha beta", None, float("nan"), "", "   ", "alpha beta", "gamma", pd.NA, "gamma"]
    df = embed(texts)
    sent = [t for b in embedding_requests(emulator) for t in b["input"]]
    assert sent == ["alpha beta", "gamma"]  # each distinct text once, nothing empty
    m = vectors(df)
    assert len(df) == 9 and df["embedding"].isna().tolist() == [False, True, True, True, True,
                                                                  False, False, True, False]
    assert np.isnan(m[[1, 2, 3, 4, 7]]).all()
    assert np.array_equal(m[0], m[5]) and np.array_equal(m[6], m[8])
    assert "5 of 9 inputs are empty or missing" in capfd.readouterr().err
    all_missing = embed([None, ""])
    assert vectors(all_missing).shape[0] == 2 and embedding_requests(emulator) == embedding_requests(emulator)


def test_rerunning_a_cell_embeds_nothing_again(llm, emulator):
    first = embed(TEXTS)
    count = len(embedding_requests(emulator))
    again = embed(TEXTS + ["one new text"])
    bodies = embedding_requests(emulator)[count:]
    assert [b["input"] for b in bodies] == [["one new text"]]
    assert np.array_equal(vectors(again)[:6], vectors(first))
    assert cache_size() == 7
    embed(TEXTS, dimensions=64)  # another size is another vector
    embed(TEXTS, cache=False)
    assert len(embedding_requests(emulator)) == count + 3


def test_a_cached_rerun_gives_every_vector_back_whatever_the_inputs_shape(llm, emulator):
    first = vectors(embed(TEXTS))
    count = len(embedding_requests(emulator))
    again = vectors(embed(TEXTS))
    assert np.array_equal(again, first) and again.flags.c_contiguous
    mixed = vectors(embed([TEXTS[2], None, TEXTS[0], TEXTS[2]]))  # a repeat and a gap around cached texts
    assert np.array_equal(mixed[[0, 2, 3]], first[[2, 0, 2]]) and np.isnan(mixed[1]).all()
    assert len(embedding_requests(emulator)) == count, "nothing is sent again"


def test_instruction_goes_on_queries_only(llm, emulator):
    task = "Given a question, retrieve passages that answer it"
    docs = embed(TEXTS)
    assert all(not t.startswith("Instruct:") for b in embedding_requests(emulator) for t in b["input"])
    queries = embed(["where is the cat"], instruction=task)
    assert embedding_requests(emulator)[-1]["input"] == [f"Instruct: {task}\nQuery:where is the cat"]
    assert list(queries["text"]) == ["where is the cat"] and queries.attrs["instruction"] == task
    emulator.reset()
    hits = similar("which animal sat on the mat", docs, k=2, instruction=task)
    assert [b["input"] for b in embedding_requests(emulator)] == [[f"Instruct: {task}\nQuery:which animal sat on the mat"]]
    assert hits["text"].iloc[0] == "the cat sat on the mat"


def test_dimensions_give_shorter_vectors(llm, emulator):
    df = embed(TEXTS, dimensions=256)
    assert vectors(df).shape == (6, 256) and df.attrs["dimensions"] == 256
    assert embedding_requests(emulator)[-1]["dimensions"] == 256
    hits = similar(TEXTS[0], df, k=1)  # the query is embedded at the frame's size
    assert embedding_requests(emulator)[-1]["dimensions"] == 256 and hits["text"].iloc[0] == TEXTS[0]


def test_refused_dimensions_say_so(llm):
    llm.extra_headers = {"X-Emulator": "dimensions=refuse"}
    with pytest.raises(errors.CapabilityError, match="does not enable Matryoshka") as info:
        embed(TEXTS, dimensions=256)
    assert "dimensions=256" in str(info.value) and "Leave dimensions out" in str(info.value)
    assert vectors(embed(TEXTS)).shape == (6, 4096)  # without it the same server answers


def test_errors_are_typed(llm):
    with pytest.raises(errors.ModelNotFound):
        embed(TEXTS, model="no-such-embedder")
    with pytest.raises(errors.CapabilityError, match="rerank model"):
        embed(TEXTS, model="bge-reranker-v2-m3")
    with pytest.raises(errors.BadRequest, match="does not support embeddings"):
        embed(TEXTS, model="qwen3-32b")
    with pytest.raises(errors.ConfigError, match="batch_size"):
        embed(TEXTS, batch_size=0)
    llm.extra_headers = {"X-Emulator": "fault=context"}
    with pytest.raises(errors.ContextTooLong):
        embed(["far too long"])
    llm.extra_headers = {"X-Emulator": "fault=401"}
    with pytest.raises(errors.AuthenticationError) as info:
        embed(["x"])
    assert TEST_KEY not in str(info.value)


def test_a_failed_batch_is_retried_with_a_notice(llm, emulator, capfd):
    llm.extra_headers = {"X-Emulator": "fault=500; fault_times=1"}
    df = embed(TEXTS)
    assert not df["embedding"].isna().any()
    assert "HTTP 500; retrying" in capfd.readouterr().err


def test_similar_by_text_vector_and_row(llm):
    docs = embed(pd.Series(TEXTS, index=list("abcdef")))
    m = vectors(docs)
    hits = similar("bread and yeast", docs, k=3)
    assert list(hits.columns) == ["score", "text", "embedding"] and len(hits) == 3
    assert hits["text"].iloc[0] == "bake bread with flour and yeast"
    assert hits["score"].is_monotonic_decreasing
    by_vector = similar(m[2], docs, k=6)
    assert by_vector.index[0] == "c" and by_vector["score"].iloc[0] == pytest.approx(1.0, abs=1e-5)
    expected = (m @ m[2]) / (np.linalg.norm(m, axis=1) * np.linalg.norm(m[2]))
    assert np.allclose(by_vector["score"].to_numpy(), np.sort(expected)[::-1], atol=1e-6)
    by_row = similar(docs.loc["a"], docs, k=10)
    assert "a" not in by_row.index and len(by_row) == 5 and by_row.index[0] == "b"
    with pytest.raises(errors.ConfigError, match="dimensions"):
        similar(np.ones(3), docs)


def test_similar_skips_missing_vectors(llm):
    docs = embed(["cats purr", None, "dogs bark"])
    hits = similar("cats", docs, k=5)
    assert list(hits.index) == [0, 2]


def test_search_retrieves_then_reranks(llm, emulator):
    docs = embed(pd.DataFrame({"text": TEXTS, "topic": ["pets"] * 2 + ["money"] * 2 + ["food"] * 2}),
                 column="text")
    emulator.reset()
    hits = search("bread recipe with yeast", docs, k=2)
    assert len(hits) == 2 and hits["score"].is_monotonic_decreasing
    assert set(hits["text"]) == {"bake bread with flour and yeast", "a sourdough bread recipe"}
    assert {"score", "similarity", "text"} <= set(hits.columns)
    rerank_bodies = [r["body"] for r in emulator.requests if r["path"].endswith("/rerank")]
    assert len(rerank_bodies) == 1 and len(rerank_bodies[0]["documents"]) == 6
    plain = search("bread recipe with yeast", docs, k=2, rerank=False)
    assert (plain["score"] == plain["similarity"]).all()


def test_frame_operations_keep_the_vectors(llm):
    df = embed(TEXTS)
    m = vectors(df)
    assert np.array_equal(vectors(df.head(3)), m[:3])
    ordered = df.sort_values("text")
    assert np.array_equal(vectors(ordered), m[ordered.index.to_numpy()])
    both = pd.concat([df, df])
    assert vectors(both).shape == (12, 4096)
    assert "×4096" in repr(df)


def test_parquet_round_trip_keeps_float32(llm, tmp_path):
    pytest.importorskip("pyarrow", reason="parquet needs pyarrow (in the dev extra)")
    df = embed(["a", None, "b"], dimensions=64)
    df.to_parquet(tmp_path / "v.parquet")
    back = pd.read_parquet(tmp_path / "v.parquet")
    assert str(back["embedding"].dtype) == "vector[float32,64]"
    assert vectors(back).dtype == np.float32
    assert np.array_equal(vectors(back), vectors(df), equal_nan=True)
    assert list(back["text"].isna()) == [False, True, False]


def test_default_model_comes_from_the_catalogue(llm, emulator):
    embed(["x"])
    assert embedding_requests(emulator)[-1]["model"] == MODEL


def test_an_embed_of_many_requests_leaves_one_segment_in_the_order_of_its_texts(llm, emulator):
    from jupyter_llm.core import store
    from jupyter_llm.data import cache

    llm.cache = "disk"
    texts = [f"text number {i}" for i in range(200)]
    first = vectors(embed(texts, batch_size=16, concurrency=4))
    assert len(embedding_requests(emulator)) == 13
    segments = sorted((store.data_dir() / "vectors").glob("seg-*.keys"))
    assert len(segments) == 1, "the 13 requests' segments were joined into one"
    count = len(embedding_requests(emulator))
    again = vectors(embed(texts))
    assert np.array_equal(again, first) and len(embedding_requests(emulator)) == count
    assert cache.stats()["disk_vectors"] == 200
