"""The emulator honours response_format (structured outputs) and prompts that ask for JSON."""
from __future__ import annotations

import json

import openai
import pytest

from support import TEST_KEY

SCHEMA = {"type": "object", "properties": {
    "label": {"enum": ["pos", "neg"]}, "stars": {"type": "integer", "minimum": 1, "maximum": 5},
    "score": {"type": "number", "minimum": 0, "maximum": 1}, "tags": {"type": "array", "items": {"type": "string"}},
    "ok": {"type": "boolean"}}, "required": ["label", "stars"]}


@pytest.fixture
def client(emulator):
    return openai.OpenAI(base_url=emulator.url, api_key=TEST_KEY, max_retries=0)


def ask(client, content, **kw):
    reply = client.chat.completions.create(model="qwen72b-awq", messages=[{"role": "user", "content": content}], **kw)
    return reply.choices[0].message.content


def test_response_format_json_schema_gets_valid_json_the_same_each_time(client):
    fmt = {"type": "json_schema", "json_schema": {"name": "review", "schema": SCHEMA}}
    text = ask(client, "Great mug, sturdy handle", response_format=fmt)
    value = json.loads(text)
    assert value["label"] in ("pos", "neg") and 1 <= value["stars"] <= 5 and 0 <= value["score"] <= 1
    assert isinstance(value["ok"], bool) and all(isinstance(t, str) for t in value["tags"])
    assert ask(client, "Great mug, sturdy handle", response_format=fmt) == text


def test_streamed_structured_answers_assemble_to_the_same_json(client):
    fmt = {"type": "json_schema", "json_schema": {"name": "review", "schema": SCHEMA}}
    stream = client.chat.completions.create(model="qwen72b-awq", stream=True, response_format=fmt,
                                            messages=[{"role": "user", "content": "Great mug, sturdy handle"}])
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    assert text == ask(client, "Great mug, sturdy handle", response_format=fmt)


def test_a_json_schema_without_a_schema_is_refused(client):
    with pytest.raises(openai.BadRequestError, match="json_schema.schema"):
        ask(client, "hi", response_format={"type": "json_schema", "json_schema": {"name": "x"}})


def test_a_system_prompt_asking_for_json_gets_it_fenced(client):
    system = "Answer with one JSON object. It must match this JSON Schema:\n" + json.dumps(SCHEMA)
    reply = client.chat.completions.create(model="qwen72b-awq", messages=[
        {"role": "system", "content": system}, {"role": "user", "content": "Cheap and flimsy"}])
    text = reply.choices[0].message.content
    assert text.startswith("```json\n") and text.endswith("\n```")
    assert json.loads(text[8:-4])["label"] in ("pos", "neg")


def test_the_concurrency_ceiling_asks_to_retry_after_the_configured_wait(emulator):
    import http.client
    import threading
    import urllib.parse

    url = urllib.parse.urlsplit(emulator.url)
    body = json.dumps({"model": "qwen72b-awq", "messages": [{"role": "user", "content": "hi"}]})
    headers = {"Authorization": f"Bearer {TEST_KEY}", "Content-Type": "application/json",
               "X-Emulator": "latency=0.5; max_concurrency=1; retry_after=0.25"}

    def post():
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
        conn.request("POST", "/v1/chat/completions", body, headers)
        response = conn.getresponse()
        response.read()
        return response.status, response.getheader("Retry-After")

    first = threading.Thread(target=post)
    first.start()
    import time

    time.sleep(0.2)
    assert post() == (429, "0.25")
    first.join()


def test_a_server_without_structured_outputs_refuses_response_format(emulator):
    client = openai.OpenAI(base_url=emulator.url, api_key=TEST_KEY, max_retries=0,
                           default_headers={"X-Emulator": "structured=false"})
    fmt = {"type": "json_schema", "json_schema": {"name": "review", "schema": SCHEMA}}
    with pytest.raises(openai.BadRequestError, match="response_format is not supported"):
        ask(client, "hi", response_format=fmt)
