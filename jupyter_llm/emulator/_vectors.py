"""Embeddings, rerank and score for the gateway emulator: cheap vectors that carry meaning.

A text's vector is signed feature hashing of its lower-cased words and their character
3-grams, L2-normalised, so texts sharing words are close. Stop-words weigh little, so
"how do I make bread rise" is not drawn to "Bond yields rise" by its "how" and "rise"
alone, and a word of a topic field (``_lexicon``) adds that field's feature, so texts on
one topic land near each other even with no word in common. Each feature is hashed once
per prefix size (32, 64, ... 4096 dimensions), which keeps a Matryoshka truncation
meaningful. numpy is imported on first use, never when the emulator is imported.
"""
from __future__ import annotations

import base64
import math
import re
import zlib
from typing import Any

from ._lexicon import STOP, field
from ._text import estimate_tokens

FULL = 4096
_LEVELS = (32, 64, 128, 256, 512, 1024, 2048, 4096)
_WORDS = re.compile(r"\w+")
_WORD_WEIGHT, _GRAM_WEIGHT, _INSTRUCT_WEIGHT = 1.0, 0.35, 0.15
_STOP_WEIGHT = 0.1   # scales a stop-word's features
_FIELD_WEIGHT = 0.6  # a topic field's feature, for each of its words: clusters, yet shared words still rank first
_EMPTY = ((zlib.crc32(b"\x00empty"),), (1.0,))
_cache: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {}


def _word_features(word: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
    found = _cache.get(word)
    if found is None:
        padded = f"<{word}>"
        hashes = [zlib.crc32(word.encode())]
        hashes += [zlib.crc32(padded[i:i + 3].encode()) ^ 0x5BD1E995 for i in range(len(padded) - 2)]
        weights = [_WORD_WEIGHT] + [_GRAM_WEIGHT] * (len(hashes) - 1)
        if word in STOP:
            weights = [w * _STOP_WEIGHT for w in weights]
        topic = field(word)
        if topic is not None:
            hashes.append(zlib.crc32(f"\x00field:{topic}".encode()))
            weights.append(_FIELD_WEIGHT)
        found = tuple(hashes), tuple(weights)
        if len(_cache) > 500_000:  # a bound for very long benchmark runs
            _cache.clear()
        _cache[word] = found
    return found


def _features(text: str, hashes: list[int], weights: list[float]) -> int:
    """Append a text's feature hashes and weights; returns how many."""
    # Qwen3-Embedding queries carry an instruction; weigh it lightly so queries still
    # land near the bare documents they are about.
    head, sep, query = text.partition("\nQuery:")
    parts = [(text, 1.0)]
    if sep and head.startswith("Instruct:"):
        parts = [(head, _INSTRUCT_WEIGHT), (query, 1.0)]
    before = len(hashes)
    for part, scale in parts:
        for word in _WORDS.findall(part.lower()):
            h, w = _word_features(word)
            hashes += h
            weights += w if scale == 1.0 else [x * scale for x in w]
    if len(hashes) == before:
        hashes += _EMPTY[0]
        weights += _EMPTY[1]
    return len(hashes) - before


def embed(texts: list[str], dims: int = FULL) -> Any:
    """Unit vectors (a float32 numpy array, one row per text) of ``dims`` dimensions."""
    import numpy as np

    flat_hashes: list[int] = []
    flat_weights: list[float] = []
    counts = [_features(t, flat_hashes, flat_weights) for t in texts]
    hashes = np.array(flat_hashes, dtype=np.uint64)
    weights = np.array(flat_weights, dtype=np.float64)
    rows = np.repeat(np.arange(len(texts), dtype=np.int64) * FULL, counts)
    cells, values = [], []
    for level in _LEVELS:
        mixed = (hashes ^ np.uint64(level * 0x9E3779B1)) * np.uint64(0x9E3779B97F4A7C15)
        cells.append(rows + ((mixed >> np.uint64(33)) % np.uint64(level)).astype(np.int64))
        sign = ((mixed >> np.uint64(17)) & np.uint64(1)).astype(np.float64) * 2.0 - 1.0
        values.append(weights * sign)
    matrix = np.bincount(np.concatenate(cells), weights=np.concatenate(values),
                         minlength=len(texts) * FULL).reshape(len(texts), FULL)[:, :dims]
    norms = np.sqrt(np.einsum("ij,ij->i", matrix, matrix))
    matrix = matrix / np.where(norms == 0, 1.0, norms)[:, None]
    matrix[norms == 0, 0] = 1.0  # a text whose features all fell outside a short prefix
    return matrix.astype(np.float32)


def encode(matrix: Any, fmt: str) -> list[str]:
    """Each row as JSON text: a list of floats, or a base64 string of little-endian float32."""
    if fmt == "base64":
        return ['"' + base64.b64encode(row.astype("<f4").tobytes()).decode("ascii") + '"'
                for row in matrix]
    return [_floats(row) for row in matrix]


def _floats(row: Any) -> str:
    # Vectors are sparse; json.dumps spends most of its time on the zeros.
    import numpy as np

    cells = ["0.0"] * len(row)
    where = np.flatnonzero(row)
    for i, x in zip(where.tolist(), row[where].tolist()):
        cells[i] = repr(x)
    return "[" + ",".join(cells) + "]"


def usage(texts: list[str]) -> dict:
    """Token usage the way embedding servers report it."""
    tokens = sum(estimate_tokens(t) + 1 for t in texts)
    return {"prompt_tokens": tokens, "total_tokens": tokens, "completion_tokens": 0,
            "prompt_tokens_details": None}


def relevance(query: str, documents: list[str]) -> list[float]:
    """Cross-encoder-like scores in (0, 1): cosine of the vectors plus shared words."""
    vectors = embed([query, *documents])
    cosines = (vectors[1:] @ vectors[0]).tolist()
    q_words = set(_WORDS.findall(query.lower()))
    out = []
    for doc, cosine in zip(documents, cosines):
        shared = len(q_words & set(_WORDS.findall(doc.lower()))) / max(1, len(q_words))
        z = 6.0 * cosine + 3.0 * shared - 3.0
        out.append(min(max(1.0 / (1.0 + math.exp(-z)), 1e-6), 1 - 1e-6))
    return out


def document_text(doc: Any) -> str:
    """A rerank document given as a string or as ``{"text": ...}``."""
    if isinstance(doc, dict):
        return str(doc.get("text", ""))
    return str(doc)
