"""The gateway emulator as a service: auth, key groups, /v1/models, embeddings, rerank,
score, the request log, the control endpoints, the CLI and a light import."""
from __future__ import annotations

import base64
import json
import re
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import openai
import pandas as pd
import pytest

from jupyter_llm.emulator import start

KEY = "sk-test-JLLM-emulator-9876543210-SECRET-abcdef"
EMBED, RERANK = "Qwen3-Embedding-8B", "bge-reranker-v2-m3"
ASK = [{"role": "user", "content": "hello"}]


def client(em, key: str = KEY, **kw) -> openai.OpenAI:
    return openai.OpenAI(base_url=em.url, api_key=key, max_retries=0, **kw)


def call(em, path: str, body: dict | None = None, headers: dict | None = None):
    """(status, headers, parsed JSON) with urllib; errors are returned, not raised."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(em.url.removesuffix("/v1") + path, data=data,
                                     headers={"Content-Type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, error.headers, json.loads(error.read())


# -- auth and key groups ------------------------------------------------------------------

def test_raw_and_bearer_keys_are_accepted_and_recorded_by_form(emulator):
    raw = client(emulator, default_headers={"Authorization": KEY})
    raw.chat.completions.create(model="qwen72b-int8", messages=ASK)
    assert emulator.requests[-1]["auth"] == "raw"
    client(emulator).chat.completions.create(model="qwen72b-int8", messages=ASK)
    entry = emulator.requests[-1]
    assert entry["auth"] == "bearer" and "authorization" not in entry["headers"]
    assert entry["path"] == "/v1/chat/completions" and entry["method"] == "POST"
    assert entry["body"]["messages"] == ASK and entry["headers"]["content-type"] == "application/json"


def test_missing_key_is_401_and_still_logged(emulator):
    status, _, body = call(emulator, "/v1/chat/completions", {"model": "qwen72b-int8", "messages": ASK})
    assert status == 401 and body["error"]["message"].startswith("未提供令牌 (request id: ")
    assert emulator.requests[-1]["auth"] == "none"
    status, _, _ = call(emulator, "/v1/models", headers={"Authorization": "Bearer "})
    assert status == 401 and emulator.requests[-1]["auth"] == "bearer"


def test_the_key_never_reaches_the_log_or_errors():
    with start(keys={KEY: "A"}) as em:
        client(em).chat.completions.create(model="qwq-32b", messages=ASK)
        client(em, default_headers={"Authorization": KEY}).models.list()
        with pytest.raises(openai.AuthenticationError) as caught:
            client(em, key=KEY + "-wrong").models.list()
        status, _, log = call(em, "/emulator/requests")
    text = json.dumps(em.requests) + json.dumps(log) + str(caught.value.body)
    assert status == 200 and len(log) == 3
    assert "SECRET" not in text and "9876543210" not in text


def test_key_groups_limit_models_and_chat():
    with start(keys={"sk-a": "A", "sk-b": "B", "sk-all": "*"}) as em:
        names_a = {m.id for m in client(em, "sk-a").models.list()}
        names_b = {m.id for m in client(em, "sk-b").models.list()}
        names_all = {m.id for m in client(em, "sk-all").models.list()}
        assert {"qwq-32b", "qwen32b-awq(试用)", EMBED, RERANK} <= names_a and "qwen3-32b" not in names_a
        assert {"qwen3-32b", "qwen3-30b-a3b", EMBED, RERANK} <= names_b and "qwq-32b" not in names_b
        assert names_all == names_a | names_b
        with pytest.raises(openai.InternalServerError) as caught:
            client(em, "sk-a").chat.completions.create(model="qwen3-32b", messages=ASK)
        assert caught.value.status_code == 503 and "当前分组 A 下对于模型 qwen3-32b 无可用渠道" in caught.value.message
        client(em, "sk-b").embeddings.create(model=EMBED, input="ok")
        with pytest.raises(openai.AuthenticationError):
            client(em, "sk-unknown").models.list()


def test_unknown_model_is_one_apis_503(emulator):
    status, _, body = call(emulator, "/v1/chat/completions", {"model": "gpt-5", "messages": ASK},
                           {"Authorization": KEY})
    # one-api's own shape (middleware/utils.go): message with the request id, type, nothing else.
    assert status == 503 and set(body["error"]) <= {"message", "type", "param", "code"}
    assert body["error"]["type"] == "one_api_error"
    assert re.fullmatch(r"当前分组 default 下对于模型 gpt-5 无可用渠道 \(request id: \d+\)", body["error"]["message"])


def test_bad_emulator_header_is_a_clear_400(emulator):
    status, _, body = call(emulator, "/v1/chat/completions", {"model": "qwen3-32b", "messages": ASK},
                           {"Authorization": KEY, "X-Emulator": "reasoning=telepathy"})
    assert status == 400 and "reasoning" in body["error"]["message"]


# -- /v1/models ---------------------------------------------------------------------------

def test_models_are_one_api_shaped_and_max_model_len_is_optional(emulator):
    status, _, body = call(emulator, "/v1/models", headers={"Authorization": KEY})
    assert status == 200 and body["object"] == "list"
    card = next(m for m in body["data"] if m["id"] == "qwen72b-int8")
    assert card["object"] == "model" and card["owned_by"] and card["root"] and "max_model_len" not in card
    models = client(emulator, default_headers={"X-Emulator": "max_model_len=1"}).models.list()
    lengths = {m.id: m.max_model_len for m in models if m.id != RERANK}
    assert lengths["qwen72b-int8"] == 16384 and lengths["qwq-32b-128k"] == 131072
    assert lengths[EMBED] == 32768


def test_models_can_be_retired_added_and_reconfigured():
    models = {"qwen72b-int8": None, "qwen9-tiny": {"context": 4096, "reasoning": "inline"},
              "qwen3-32b": {"reasoning": "none"}}
    with start(models=models, defaults={"answer_tokens": 12}) as em:
        sdk = client(em)
        names = [m.id for m in sdk.models.list()]
        assert "qwen72b-int8" not in names and "qwen9-tiny" in names
        reply = sdk.chat.completions.create(model="qwen9-tiny", messages=ASK)
        assert reply.choices[0].message.content.startswith("<think>")
        plain = sdk.chat.completions.create(model="qwen3-32b", messages=ASK)
        assert getattr(plain.choices[0].message, "reasoning", None) is None
        assert plain.usage.completion_tokens == 12
        header = sdk.chat.completions.create(model="qwen3-32b", messages=ASK,
                                             extra_headers={"X-Emulator": "reasoning=reasoning"})
        assert getattr(header.choices[0].message, "reasoning", None)


# -- embeddings ---------------------------------------------------------------------------

def test_embeddings_float_and_base64_agree(emulator):
    texts = ["The cat sat on the mat.", "", "数据分析"]
    sdk = client(emulator)
    floats = sdk.embeddings.create(model=EMBED, input=texts, encoding_format="float")
    status, _, body = call(emulator, "/v1/embeddings", {"model": EMBED, "input": texts,
                                                        "encoding_format": "base64"}, {"Authorization": KEY})
    assert status == 200 and body["object"] == "list" and body["model"] == EMBED
    for row, item in zip(floats.data, body["data"]):
        decoded = np.frombuffer(base64.b64decode(item["embedding"]), dtype="<f4")
        assert item["object"] == "embedding" and len(decoded) == 4096
        assert np.array_equal(decoded, np.asarray(row.embedding, dtype=np.float32))
        assert abs(np.linalg.norm(decoded) - 1) < 1e-5
    sdk_default = sdk.embeddings.create(model=EMBED, input=texts)  # the SDK asks for base64
    assert emulator.requests[-1]["body"]["encoding_format"] == "base64"
    assert sdk_default.data[0].embedding == floats.data[0].embedding
    assert floats.usage.prompt_tokens > 0


def vectors(em, texts, **extra):
    reply = client(em).embeddings.create(model=EMBED, input=texts, **extra)
    return np.array([d.embedding for d in reply.data])


def test_texts_sharing_words_are_closer(emulator):
    v = vectors(emulator, ["How do I bake sourdough bread?", "sourdough bread baking tips",
                           "quarterly tax filing deadline"])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    query = vectors(emulator, ["Instruct: find a recipe\nQuery:sourdough bread"])[0]
    assert query @ v[1] > query @ v[2] + 0.2


def test_stop_words_do_not_pull_texts_together(emulator):
    query, bread, bonds = vectors(emulator, ["how do I make bread rise", "Knead the bread dough until it is smooth.",
                                             "Bond yields rise when bond prices fall."])
    assert query @ bread > query @ bonds + 0.1


def test_texts_on_one_topic_land_near_each_other_without_a_word_in_common(emulator):
    planets, galaxy, rates = vectors(emulator, ["Jupiter is the largest planet.", "Andromeda is a spiral galaxy.",
                                                "The central bank raised interest rates."])
    assert planets @ galaxy > planets @ rates + 0.03


def test_the_bundled_snippets_form_one_cluster_per_topic(emulator):
    snippets = pd.read_csv(Path(__file__).resolve().parents[2] / "notebooks" / "data" / "snippets.csv")
    v = vectors(emulator, list(snippets.text), dimensions=256)
    topics = snippets.topic.to_numpy()
    similarity = v @ v.T
    np.fill_diagonal(similarity, -1)
    assert (topics[similarity.argmax(axis=1)] == topics).mean() >= 0.9, "each text's nearest is of its topic"
    # What the embeddings notebook plots: the first two principal components separate the topics.
    centred = v - v.mean(axis=0)
    points = centred @ np.linalg.svd(centred, full_matrices=False)[2][:2].T
    spread = sum(((points[topics == t] - points[topics == t].mean(axis=0)) ** 2).sum() for t in set(topics))
    assert spread < 0.4 * ((points - points.mean(axis=0)) ** 2).sum()


def test_dimensions_truncate_and_renormalise(emulator):
    texts = ["sourdough bread recipe", "bread recipe with sourdough", "stock market crash"]
    v = vectors(emulator, texts, dimensions=256)
    full = vectors(emulator, texts)
    assert v.shape == (3, 256) and np.allclose(np.linalg.norm(v, axis=1), 1, atol=1e-5)
    assert np.allclose(v[0], full[0, :256] / np.linalg.norm(full[0, :256]), atol=1e-5)
    assert v[0] @ v[1] > v[0] @ v[2]
    with pytest.raises(openai.BadRequestError, match="between 32 and 4096"):
        vectors(emulator, texts, dimensions=8)


def test_dimensions_can_be_refused_like_vllm(emulator):
    with pytest.raises(openai.BadRequestError) as caught:
        client(emulator, default_headers={"X-Emulator": "dimensions=refuse"}).embeddings.create(
            model=EMBED, input="x", dimensions=256)
    assert caught.value.message.endswith(
        f'Model "{EMBED}" does not support matryoshka representation, changing output dimensions '
        "will lead to poor results.")


def test_wrong_model_kind_is_a_400(emulator):
    with pytest.raises(openai.BadRequestError, match="does not support embeddings"):
        client(emulator).embeddings.create(model="qwen3-32b", input="x")
    with pytest.raises(openai.BadRequestError, match="Chat Completions"):
        client(emulator).chat.completions.create(model=EMBED, messages=ASK)


# -- rerank and score ---------------------------------------------------------------------

DOCS = ["Paris is the capital of France.", "Bananas are rich in potassium.",
        {"text": "France's capital city, Paris, sits on the Seine."}]


def test_rerank_vllm_shape_sorted_with_top_n(emulator):
    status, _, body = call(emulator, "/v1/rerank", {"model": RERANK, "query": "capital of France",
                                                    "documents": DOCS, "top_n": 2}, {"Authorization": KEY})
    assert status == 200 and body["model"] == RERANK and body["usage"]["total_tokens"] > 0
    results = body["results"]
    assert len(results) == 2 and {r["index"] for r in results} == {0, 2}
    scores = [r["relevance_score"] for r in results]
    assert scores == sorted(scores, reverse=True) and all(0 < s < 1 for s in scores)
    assert results[0]["document"]["text"] in (DOCS[0], DOCS[2]["text"])


def test_rerank_sglang_shape_is_a_bare_list(emulator):
    status, _, body = call(emulator, "/v1/rerank", {"model": RERANK, "query": "capital of France",
                                                    "documents": DOCS},
                           {"Authorization": KEY, "X-Emulator": "rerank=sglang"})
    assert status == 200 and isinstance(body, list) and len(body) == 3
    assert body[-1]["index"] == 1 and body[-1]["document"] == DOCS[1]
    assert [r["score"] for r in body] == sorted((r["score"] for r in body), reverse=True)


def test_score_pairs(emulator):
    status, _, body = call(emulator, "/v1/score", {"model": RERANK, "text_1": "capital of France",
                                                   "text_2": DOCS[:2]}, {"Authorization": KEY})
    assert status == 200 and [d["index"] for d in body["data"]] == [0, 1]
    assert body["data"][0]["object"] == "score" and body["data"][0]["score"] > body["data"][1]["score"]
    assert body["usage"]["prompt_tokens"] > 0


# -- control endpoints, CLI, import ---------------------------------------------------------

def test_control_endpoints_read_and_reset_the_log():
    with start() as em:
        client(em).models.list()
        status, _, log = call(em, "/emulator/requests")
        assert status == 200 and [e["path"] for e in log] == ["/v1/models"]
        assert call(em, "/emulator/reset", {})[0] == 200
        assert em.requests == []


def test_cli_prints_its_url_and_serves():
    env = {**os.environ, "PYTHONPATH": os.getcwd()}
    process = subprocess.Popen(
        [sys.executable, "-m", "jupyter_llm.emulator", "--port", "0", "--key", "sk-cli:B",
         "--option", "reasoning=none"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stdout.readline().strip()
        prefix = "jupyter-llm gateway emulator (a test double) listening on http://127.0.0.1:"
        assert line.startswith(prefix) and line.endswith("/v1")
        sdk = openai.OpenAI(base_url=line.rsplit(" ", 1)[1], api_key="sk-cli", max_retries=0)
        reply = sdk.chat.completions.create(model="qwen3-32b", messages=ASK)
        assert getattr(reply.choices[0].message, "reasoning", None) is None
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0 and "Traceback" not in process.stderr.read()


def test_import_stays_light():
    code = ("import sys, jupyter_llm.emulator; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "{'numpy', 'openai', 'pandas', 'httpx', 'http'}))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "PYTHONPATH": os.getcwd()})
    assert out.stdout.strip() == "[]"


def test_the_log_says_when_the_first_and_last_token_were_written(emulator):
    before = time.time()
    stream = client(emulator).chat.completions.create(
        model="qwen3-32b", messages=ASK, stream=True,
        extra_headers={"X-Emulator": "rate=400; answer_tokens=200; reasoning_tokens=0"})
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    after = time.time()
    written = emulator.requests[-1]["tokens_written"]
    assert text and before < written["first"] < written["last"] <= after
    # 200 tokens paced at 400 a second: the last leaves about half a second after the first.
    assert 0.4 < written["last"] - written["first"] < 0.5 + (after - before)
