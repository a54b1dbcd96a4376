"""The cassette's compact lines: replay rebuilds exactly the chunks that were sent, old lines
still replay, and the shipped cassettes stay small."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from support import unreachable

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core import cassette_format
from jupyter_llm.core.client import Client


@pytest.mark.parametrize("emulate", [
    "reasoning=reasoning_content", "reasoning=reasoning", "reasoning=sglang", "server=sglang; reasoning=sglang",
    "reasoning=inline", "finish=separate; chunk_tokens=3", "fault=error-chunk; cut_after=20",
])
def test_replay_rebuilds_exactly_the_chunks_that_were_sent(llm, tmp_path, emulate):
    body = {"model": "qwen3-32b", "messages": [{"role": "user", "content": f"Explain {emulate}."}]}

    def chunks():
        out = []
        client = Client(llm, max_retries=0, extra_headers={"X-Emulator": f"answer_tokens=300; {emulate}"})
        try:
            for chunk in client.chat(body):
                out.append(chunk)
        except errors.GatewayError:
            out.append("error")
        return out

    path = tmp_path / "exact.llm.jsonl"
    with jupyter_llm.cassette(path, mode="record"):
        sent = chunks()
    unreachable(llm)
    with jupyter_llm.cassette(path, mode="replay"):
        assert chunks() == sent and len(sent) > 20
    if "fault" in emulate:
        return
    exchange = path.read_text(encoding="utf-8").splitlines()[1]
    text = sum(len(d.get(k) or "") for c in sent if c != "error" for ch in c["choices"] for d in [ch["delta"]]
               for k in ("content", "reasoning", "reasoning_content"))
    assert len(exchange.encode()) <= 4 * text, "a chat exchange costs at most 4x its reply text"


def test_old_cassettes_still_replay(llm, tmp_path):
    envelope = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "qwen72b-awq"}
    chunks = [[0.01 * i, {**envelope, "choices": [{"index": 0, "delta": {"content": word}, "finish_reason": finish}]}]
              for i, (word, finish) in enumerate((("Old ", None), ("format.", "stop")))]
    request = {"model": "qwen72b-awq", "messages": [{"role": "user", "content": "Old?"}]}
    path = tmp_path / "v1.llm.jsonl"
    path.write_text(json.dumps({"jupyter_llm_cassette": 1, "exchanges": 1}) + "\n" +
                    json.dumps({"kind": "chat", "n": 0, "request": request, "chunks": chunks}) + "\n", encoding="utf-8")
    unreachable(llm)
    with jupyter_llm.cassette(path, mode="replay"):
        assert jupyter_llm.ask("Old?", model="qwen72b-awq", display=False).content == "Old format."


def shipped_cassettes() -> list[Path]:
    return sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.llm.jsonl"))


def test_shipped_cassettes_are_compact_and_replay_their_lines_exactly():
    assert sum(p.stat().st_size for p in shipped_cassettes()) < 600_000
    for path in shipped_cassettes():
        for text in path.read_text(encoding="utf-8").splitlines()[1:]:
            record = json.loads(text)
            if record["kind"] == "chat":
                assert cassette_format.current(record), f"{path.name}: the chunks rebuilt encode to the same line"
            elif record["kind"] == "embeddings" and "response" in record:
                vectors = [item["embedding"] for item in record["response"]["data"]]
                raw = sum(len(base64.b64decode(v)) for v in vectors)
                stored = len(json.dumps(record["response"]["data"], separators=(",", ":")))
                assert stored <= 1.4 * raw, f"{path.name}: vectors stored as base64 float32"
