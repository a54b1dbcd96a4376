"""Vectors on disk: what goes in comes back, by key, whatever the order, width or writer."""
from __future__ import annotations

import hashlib
import subprocess
import sys

import numpy as np
import pytest

from jupyter_llm.data import vector_store

DIMS = 16


def _keys(n: int, tag: str = "text") -> list[bytes]:
    return [hashlib.sha256(f"{tag} {i}".encode()).digest() for i in range(n)]


def _vectors(n: int, dims: int = DIMS, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal((n, dims), dtype=np.float32)


@pytest.fixture
def stored(tmp_path):
    """300 vectors written as segments of 50, as embed() writes one per batch."""
    keys, vectors = _keys(300), _vectors(300)
    for start in range(0, 300, 50):
        vector_store.put(tmp_path, keys[start:start + 50], vectors[start:start + 50])
    return tmp_path, keys, vectors


def test_vectors_come_back_exactly_as_a_fresh_contiguous_matrix(stored):
    folder, keys, vectors = stored
    matrix, hit = vector_store.get(folder, keys, DIMS)
    assert hit.all() and np.array_equal(matrix, vectors)
    assert matrix.dtype == np.float32 and matrix.flags.c_contiguous and matrix.flags.writeable
    matrix[0] = 0  # the caller's own copy: the files are untouched
    again, _ = vector_store.get(folder, keys, DIMS)
    assert np.array_equal(again, vectors)


@pytest.mark.parametrize("order", ["reversed", "shuffled", "runs and strays"])
def test_keys_in_any_order_find_their_own_vectors(stored, order):
    folder, keys, vectors = stored
    rng = np.random.default_rng(1)
    if order == "reversed":
        picks = np.arange(300)[::-1]
    elif order == "shuffled":
        picks = rng.permutation(300)
    else:  # long runs that cross segments, single rows, repeats
        picks = np.concatenate([np.arange(40, 140), [7, 299, 7], np.arange(200, 230), rng.permutation(300)[:20]])
    matrix, hit = vector_store.get(folder, [keys[i] for i in picks], DIMS)
    assert hit.all() and np.array_equal(matrix, vectors[picks])


def test_missing_keys_are_nan_and_the_found_ones_are_kept(stored):
    folder, keys, vectors = stored
    asked = keys[:120] + _keys(30, "new") + keys[250:] + _keys(5, "other")
    matrix, hit = vector_store.get(folder, asked, DIMS)
    expected_hit = np.r_[np.ones(120, bool), np.zeros(30, bool), np.ones(50, bool), np.zeros(5, bool)]
    assert np.array_equal(hit, expected_hit)
    assert np.array_equal(matrix[:120], vectors[:120]) and np.array_equal(matrix[150:200], vectors[250:])
    assert np.isnan(matrix[~hit]).all()


def test_nothing_found_is_none(tmp_path, stored):
    folder, _, _ = stored
    matrix, hit = vector_store.get(folder, _keys(10, "never"), DIMS)
    assert matrix is None and not hit.any()
    matrix, hit = vector_store.get(tmp_path / "no such folder", _keys(3), DIMS)
    assert matrix is None and not hit.any()


def test_each_width_is_kept_apart(tmp_path):
    keys = _keys(20)
    narrow, wide = _vectors(20, 8, seed=1), _vectors(20, 32, seed=2)
    vector_store.put(tmp_path, keys, narrow)
    vector_store.put(tmp_path, keys, wide)
    got_narrow, hit_narrow = vector_store.get(tmp_path, keys, 8)
    got_wide, hit_wide = vector_store.get(tmp_path, keys, 32)
    assert hit_narrow.all() and np.array_equal(got_narrow, narrow)
    assert hit_wide.all() and np.array_equal(got_wide, wide)
    assert vector_store.get(tmp_path, keys, 64)[0] is None
    assert vector_store.count(tmp_path)[0] == 40


def test_a_second_put_adds_a_segment_and_rewrites_none(stored):
    folder, keys, vectors = stored
    before = {path.name: path.read_bytes() for path in folder.iterdir()}
    vector_store.put(folder, keys[:10], vectors[:10])
    after = {path.name: path.read_bytes() for path in folder.iterdir()}
    assert {name: after[name] for name in before} == before
    assert len(after) == len(before) + 2
    matrix, hit = vector_store.get(folder, keys, DIMS)
    assert hit.all() and np.array_equal(matrix, vectors)


def test_a_segment_that_vanished_or_is_short_costs_only_its_own_rows(stored):
    folder, keys, vectors = stored
    data = sorted(folder.glob("seg-*.f32"))
    gone, short = data[0], data[1]
    gone_keys = set(np.fromfile(gone.with_suffix(".keys"), "<u8").tolist())
    short_keys = set(np.fromfile(short.with_suffix(".keys"), "<u8").tolist())
    gone.unlink()  # as if another kernel cleared the cache after the keys were read
    short.write_bytes(short.read_bytes()[:DIMS * 4 * 10])
    asked = [keys[i] for i in np.random.default_rng(3).permutation(300)[:150]] + keys
    matrix, hit = vector_store.get(folder, asked, DIMS)
    lost = np.isin(vector_store.short_keys(asked), list(gone_keys | short_keys))
    assert lost.any() and not hit[lost].any() and np.isnan(matrix[lost]).all()
    by_key = dict(zip(keys, vectors))
    assert hit[~lost].all()
    assert np.array_equal(matrix[~lost], np.array([by_key[k] for k, miss in zip(asked, lost) if not miss]))


def test_several_processes_writing_at_once_lose_nothing(tmp_path):
    script = (
        "import hashlib, sys, numpy as np\n"
        "from pathlib import Path\n"
        "from jupyter_llm.data import vector_store\n"
        "writer = int(sys.argv[1])\n"
        "for batch in range(20):\n"
        "    keys = [hashlib.sha256(f'{writer} {batch} {i}'.encode()).digest() for i in range(25)]\n"
        "    vector_store.put(Path(sys.argv[2]), keys, np.full((25, 4), writer * 100 + batch, np.float32))\n"
    )
    writers = [subprocess.Popen([sys.executable, "-c", script, str(w), str(tmp_path)]) for w in range(4)]
    assert [w.wait(60) for w in writers] == [0] * 4
    keys = [hashlib.sha256(f"{w} {b} {i}".encode()).digest() for w in range(4) for b in range(20) for i in range(25)]
    matrix, hit = vector_store.get(tmp_path, keys, 4)
    assert hit.all()
    assert np.array_equal(matrix[:, 0], np.repeat([w * 100 + b for w in range(4) for b in range(20)], 25))
    assert not list(tmp_path.glob(".seg-*")), "no half-written file is left behind"


def test_short_keys_are_the_first_eight_bytes_whatever_the_key_length():
    keys = _keys(3) + [b"abcdefgh-not-a-digest", b"12345678"]
    expected = [int.from_bytes(k[:8], "little") for k in keys]
    assert vector_store.short_keys(keys).tolist() == expected
    assert vector_store.short_keys(_keys(4)).tolist() == [int.from_bytes(k[:8], "little") for k in _keys(4)]
