"""Text kept in pieces: read back whole, while the pieces are joined as they pass a megabyte."""
from __future__ import annotations

from jupyter_llm.core.pieces import STEP, Pieces


def test_pieces_read_back_whole_and_are_joined_every_step():
    pieces = Pieces(["start:"])
    texts = [f"record {i}, " for i in range(300_000)]
    for text in texts:
        pieces.append(text)
    assert "".join(pieces) == "start:" + "".join(texts)
    assert all(STEP <= len(p) < STEP + 20 for p in pieces[1:4]), "a piece a megabyte"
    assert len(pieces) < len(texts) / 3
