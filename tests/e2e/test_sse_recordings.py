"""Event streams recorded from a real API (openai-python's own test recordings), served byte
for byte over loopback HTTP and read by ask(): content, refusals, tool calls, logprobs,
several choices, finish reasons and usage come out as the recording says."""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

import jupyter_llm

RECORDINGS = json.loads((Path(__file__).resolve().parents[1] / "corpus" / "sse.json").read_text(encoding="utf-8"))
CASES = RECORDINGS["cases"]


@pytest.fixture(scope="module")
def recorded():
    """A loopback server that answers every chat request with the recording named in the request's model."""
    bodies = {c["id"]: c["body"].encode() for c in CASES}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            model = json.loads(self.rfile.read(length)).get("model")
            body = bodies[model]
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            # In small pieces, as a stream arrives: a line (and a UTF-8 character) may span two reads.
            for start in range(0, len(body), 97):
                self.wfile.write(body[start:start + 97])
                self.wfile.flush()

        def do_GET(self):  # /v1/models: nothing to say about the recordings' models
            body = b'{"object": "list", "data": []}'
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_recorded_stream_reads_as_the_recording_says(llm, recorded, case):
    llm.base_url = recorded
    reply = jupyter_llm.ask("hi", model=case["id"], display=False)
    want = case["expected"]
    choices = want.get("choices") or [want]
    assert len(reply.choices) == want["n"] == len(choices)
    for got, expected in zip(reply.choices, choices):
        assert got.content == (expected.get("content") or "")
        assert got.refusal == expected.get("refusal")
        assert got.finish_reason == expected["finish_reason"]
    calls = [{"index": c.index, "id": c.id, "name": c.name, "arguments": c.arguments_json} for c in reply.tool_calls]
    assert calls == [{k: c[k] for k in ("index", "id", "name", "arguments")} for c in want["tool_calls"]]
    if want["logprobs"]:
        assert list(reply.logprobs.token) == want["logprobs_content_tokens"]
        assert (reply.logprobs.probability <= 1).all()
    else:
        assert reply.logprobs is None
    if want.get("usage"):
        assert reply.usage.total_tokens == want["usage"]["total_tokens"]


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_a_batch_reads_each_recording_into_the_same_chunks_as_a_cell(llm, recorded, case):
    from jupyter_llm.core import event_loop
    from jupyter_llm.core.client import Client

    llm.base_url = recorded
    client = Client(llm, max_retries=0)
    body = {"model": case["id"], "messages": [{"role": "user", "content": "hi"}]}

    async def read():
        chunks = await client.chat_async(body)
        return [chunk async for chunk in chunks]

    assert event_loop.submit(read()).result(30) == list(client.chat(body))
