"""The gateway emulator's API endpoints: models, chat, embeddings, rerank, score.

Each route function gets the handler (to write with), the parsed body, the model name,
its effective settings and the fault due for this request (or None).
"""
from __future__ import annotations

import json
from typing import Any

from . import _chat, _wire
from ._errors import ServerError, bad_request
from ._models import ModelTable

_CREATED = 1_700_000_000


def _card(table: ModelTable, name: str, header: dict) -> dict:
    s = table.settings(name, header)
    card = {"id": name, "object": "model", "created": _CREATED, "owned_by": s["owned_by"],
            "root": s["root"] or name, "parent": None, "permission": []}
    if s["max_model_len"] and s["kind"] != "rerank":
        card["max_model_len"] = s["context"]
    return card


def _header(settings: dict) -> dict:
    # /v1/models has no model of its own; only the setting that shapes the list applies.
    return {"max_model_len": settings["max_model_len"]} if settings["max_model_len"] else {}


def models(table: ModelTable, group: str | None, settings: dict) -> dict:
    """``GET /v1/models`` in one-api's shape: the models the key's group may use."""
    header = _header(settings)
    return {"object": "list", "data": [_card(table, n, header) for n in table.visible(group)]}


def model(table: ModelTable, group: str | None, name: str, settings: dict) -> dict:
    """``GET /v1/models/{name}``."""
    if name not in table.visible(group):
        raise ServerError(404, f"The model '{name}' does not exist", "invalid_request_error",
                          "model", "model_not_found")
    return _card(table, name, _header(settings))


def _need(kind: str, name: str, s: dict, what: str) -> None:
    if s["kind"] != kind:
        article = "an" if s["kind"] == "embedding" else "a"
        raise bad_request(f'The model "{name}" does not support {what} (it is {article} '
                          f'{s["kind"]} model).', "model")


def chat(handler: Any, body: dict, name: str, s: dict, fault: str | None) -> None:
    """``POST /v1/chat/completions``."""
    _need("chat", name, s, "the Chat Completions API")
    reply = _chat.plan(body, name, s, handler.server.state.ident("chatcmpl"), fault)
    handler.charge(reply.prompt_tokens + reply.completion_tokens, s)
    if reply.stream:
        handler.stream(reply, fault)
    elif fault == "error-chunk":
        handler.send_error_reply(ServerError(500, "Internal server error: the engine stopped "
                                             "while generating this reply.", "internal_error"),
                                 s["error_shape"], fault)
    else:
        # A server answers a request that does not stream once the whole reply is generated,
        # at the pace a stream of it would have kept.
        if s["rate"] > 0 and handler.server.state.stopping.wait(reply.completion_tokens / s["rate"]):
            handler.close_connection = True
            return
        handler.send_json(200, _wire.completion(reply), fault=fault)


def _texts(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list) and value and all(isinstance(v, int) for v in value):
        return [" ".join(map(str, value))]  # one pre-tokenised input
    if isinstance(value, list) and value:
        return [v if isinstance(v, str) else " ".join(map(str, v)) if isinstance(v, list) else str(v)
                for v in value]
    raise bad_request("input: a string or a non-empty list of strings is required", "input")


def embeddings(handler: Any, body: dict, name: str, s: dict, fault: str | None) -> None:
    """``POST /v1/embeddings``: float lists or base64 float32, Matryoshka dimensions."""
    from . import _vectors

    _need("embedding", name, s, "embeddings")
    texts = _texts(body.get("input"))
    full = min(s["dims"], _vectors.FULL)
    dims = body.get("dimensions")
    if dims is not None:
        if s["dimensions"] == "refuse":
            raise bad_request(f'Model "{name}" does not support matryoshka representation, '
                              "changing output dimensions will lead to poor results.")
        if not isinstance(dims, int) or not 32 <= dims <= full:
            raise bad_request(f"dimensions must be an integer between 32 and {full}", "dimensions")
    fmt = body.get("encoding_format") or "float"
    if fmt not in ("float", "base64"):
        raise bad_request(f"encoding_format must be 'float' or 'base64', not {fmt!r}", "encoding_format")
    usage = _vectors.usage(texts)
    longest = max(_vectors.usage([t])["prompt_tokens"] for t in texts)
    if fault == "context" or longest > s["context"]:
        raise bad_request(f"This model's maximum context length is {s['context']} tokens. However, "
                          f"you requested {max(longest, s['context'] + 1)} tokens in the input for "
                          "embedding generation. Please reduce the length of the input.", "input")
    rows = _vectors.encode(_vectors.embed(texts, dims or full), fmt)
    handler.charge(usage["total_tokens"], s)
    ident, created = handler.server.state.ident("embd")
    data = ",".join(f'{{"index":{i},"object":"embedding","embedding":{row}}}' for i, row in enumerate(rows))
    model = json.dumps(name, ensure_ascii=False)
    text = (f'{{"id":"{ident}","object":"list","created":{created},"model":{model},'
            f'"data":[{data}],"usage":{json.dumps(usage)}}}')
    handler.send_json(200, text, fault=fault)


def rerank(handler: Any, body: dict, name: str, s: dict, fault: str | None) -> None:
    """``POST /v1/rerank``: vLLM/Jina results, or SGLang's bare list."""
    from . import _vectors

    _need("rerank", name, s, "rerank")
    query, documents = body.get("query"), body.get("documents")
    if not isinstance(query, str) or not isinstance(documents, list):
        raise bad_request("query (a string) and documents (a list) are required", "documents")
    texts = [_vectors.document_text(d) for d in documents]
    scores = _vectors.relevance(query, texts) if texts else []
    order = sorted(range(len(texts)), key=lambda i: (-scores[i], i))
    top_n = body.get("top_n")
    if isinstance(top_n, int) and top_n > 0:
        order = order[:top_n]
    tokens = _vectors.usage([query, *texts])["total_tokens"]
    handler.charge(tokens, s)
    if s["rerank"] == "sglang":
        return handler.send_json(200, [{"index": i, "score": scores[i], "document": texts[i]}
                                       for i in order], fault=fault)
    keep = body.get("return_documents", True) is not False
    results = [{"index": i, **({"document": {"text": texts[i]}} if keep else {}),
                "relevance_score": scores[i]} for i in order]
    ident, _ = handler.server.state.ident("rerank")
    handler.send_json(200, {"id": ident, "model": name, "usage": {"total_tokens": tokens},
                            "results": results}, fault=fault)


def score(handler: Any, body: dict, name: str, s: dict, fault: str | None) -> None:
    """``POST /v1/score``: one score per (text_1, text_2) pair."""
    from . import _vectors

    if s["kind"] not in ("rerank", "embedding"):
        _need("rerank", name, s, "score")
    first, second = body.get("text_1"), body.get("text_2")
    first = [first] if isinstance(first, str) else first
    second = [second] if isinstance(second, str) else second
    if not isinstance(first, list) or not isinstance(second, list) or not first or not second:
        raise bad_request("text_1 and text_2 (strings or lists of strings) are required", "text_2")
    if len(first) == 1:
        scores = _vectors.relevance(str(first[0]), [str(t) for t in second])
    elif len(first) == len(second):
        scores = [_vectors.relevance(str(a), [str(b)])[0] for a, b in zip(first, second)]
    else:
        raise bad_request("text_1 must hold one text or as many as text_2", "text_1")
    ident, created = handler.server.state.ident("score")
    usage = _vectors.usage([str(t) for t in first + second])
    handler.send_json(200, {"id": ident, "object": "list", "created": created, "model": name,
                            "data": [{"index": i, "object": "score", "score": v}
                                     for i, v in enumerate(scores)], "usage": usage}, fault=fault)


#: POST routes, by path (vLLM serves rerank and score under several prefixes).
ROUTES = {
    "/v1/chat/completions": chat,
    "/v1/embeddings": embeddings,
    "/v1/rerank": rerank, "/rerank": rerank, "/v2/rerank": rerank,
    "/v1/score": score, "/score": score,
}
