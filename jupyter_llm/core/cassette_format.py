"""The cassette's lines: one exchange per line, compact, and rebuilt exactly on replay.

Version 2 (written now). A chat exchange stores what every chunk repeats once: the
``envelope`` (id, object, created, model), the ``template`` of a choice and of the rest of
a chunk, and the ``text`` keys its deltas use with the null fields each carries (SGLang
sends every delta field, null or not). Each chunk is then one entry of ``chunks``:

- ``[ms, "text"]``: a chunk of the template whose delta is ``text`` under the current text key;
- ``[ms, "text", i]``: the same, under text key ``i``, which becomes the current one;
- ``[ms, {choice fields}]``: a chunk of the template with another delta or finish reason
  (the role, the finish, tool calls): the fields of its one choice that differ;
- ``[ms, null, rest]``: any other chunk (usage, several choices), whole but for the envelope.

``ms`` is the whole milliseconds since the chunk before. Other exchanges store the
answer as it came (embeddings arrive as base64 float32 already). Version 1 lines, with
every chunk whole and its time in seconds, are read too: old cassettes still replay.
"""
from __future__ import annotations

import json

VERSION = 2
KINDS = ("chat", "embeddings", "rerank", "models")
_TEXT_KEYS = ("content", "reasoning", "reasoning_content")
#: Envelope fields a server sets anew for every reply; a re-recording that differs only there is the same answer.
_VOLATILE = ("id", "created", "system_fingerprint")


def header() -> str:
    """The first line of a cassette written now."""
    return json.dumps({"jupyter_llm_cassette": VERSION})


def encode_chunks(timed: list[tuple[float, dict]]) -> dict:
    """The compact fields (envelope, template, text, chunks) of ``timed``: (seconds since the
    request, chunk dict) pairs, in the order received."""
    envelope = _common([chunk for _, chunk in timed])
    shapes = [_shape(chunk, envelope) for _, chunk in timed]
    # The most common (rest, choice) pair is the template; a reply has one or two, so a list
    # compared by equality beats hashing every chunk's shape.
    seen: list[list] = []
    for shape in shapes:
        if shape is None:
            continue
        for entry in seen:
            if entry[0] == shape[0] and entry[1] == shape[1]:
                entry[2] += 1
                break
        else:
            seen.append([shape[0], shape[1], 1])
    top, choice = max(seen, key=lambda entry: entry[2])[:2] if seen else ({}, {})
    texts: list[list] = []
    out, current, before = [], 0, 0.0
    for (at, chunk), shape in zip(timed, shapes):
        ms = max(0, round((at - before) * 1000))
        before = at
        if shape is not None and shape[0] == top and shape[1] == choice:
            key, text, nulls = shape[2]
            entry = [key, nulls]
            if entry not in texts:
                texts.append(entry)
            index = texts.index(entry)
            out.append([ms, text] if index == current else [ms, text, index])
            current = index
        elif (changed := _choice_change(chunk, envelope, top, choice)) is not None:
            out.append([ms, changed])
        else:
            out.append([ms, None, {k: v for k, v in chunk.items() if k not in envelope}])
    return {"envelope": envelope, "template": {"top": top, "choice": choice}, "text": texts, "chunks": out}


def decode_chunks(record: dict):
    """The chunks of a chat exchange (either version), with the seconds to wait before each."""
    if "envelope" not in record:
        before = 0.0
        for at, chunk in record["chunks"]:
            yield max(0.0, at - before), chunk
            before = at
        return
    envelope, template, texts = record["envelope"], record["template"], record["text"]
    current = 0
    for entry in record["chunks"]:
        ms, text = entry[0], entry[1]
        if text is None:
            yield ms / 1000, {**envelope, **entry[2]}
            continue
        if isinstance(text, dict):
            yield ms / 1000, {**envelope, "choices": [{**template["choice"], **text}], **template["top"]}
            continue
        if len(entry) > 2:
            current = entry[2]
        key, nulls = texts[current]
        choice = {**template["choice"], "delta": {**nulls, key: text}}
        yield ms / 1000, {**envelope, "choices": [choice], **template["top"]}


def answer(record: dict):
    """What a recording answered, less what changes on every recording (ids, timings): two
    recordings with equal answers are the same, and re-recording keeps the old line."""
    if "error" in record:
        return {"error": record["error"], "chunks": _plain(record) if "chunks" in record else None}
    if record["kind"] == "chat":
        return _plain(record)
    response = record.get("response")
    return {k: v for k, v in response.items() if k not in _VOLATILE} if isinstance(response, dict) else response


def current(record: dict) -> bool:
    """True for an exchange stored exactly as this version writes it (an old chat line is not)."""
    if record["kind"] != "chat":
        return True
    if "envelope" not in record:
        return False
    timed, at = [], 0.0
    for wait, chunk in decode_chunks(record):
        at += wait
        timed.append((at, chunk))
    return encode_chunks(timed) == {k: record[k] for k in ("envelope", "template", "text", "chunks")}


def check(record, kinds=KINDS) -> str | None:
    """Why ``record`` (a parsed line) is not an exchange, or None when it is one."""
    if not isinstance(record, dict):
        return f"it holds {type(record).__name__} {json.dumps(record)[:40]}, not an exchange (a JSON object)"
    missing = [k for k in ("kind", "n", "request") if k not in record]
    if missing:
        return f"it has no {' and no '.join(missing)}"
    if record["kind"] not in kinds:
        return f"its kind {record['kind']!r} is not one of {', '.join(kinds)}"
    if not isinstance(record["request"], dict) or not isinstance(record["n"], int) or record["n"] < 0:
        return "its request is not an object, or its n is not a whole number"
    if record["kind"] == "chat":
        chunks = record.get("chunks")
        if not isinstance(chunks, list) or not all(isinstance(c, list) and len(c) >= 2 for c in chunks):
            return "its chunks are missing or not [time, chunk] pairs"
        if "envelope" in record and not (isinstance(record.get("template"), dict) and isinstance(record.get("text"), list)):
            return "it has an envelope but no template or text keys"
    elif "response" not in record and "error" not in record:
        return "it has neither a response nor an error"
    if "error" in record and not (isinstance(record["error"], dict) and "message" in record["error"]):
        return "its error has no message"
    return None


def _plain(record: dict) -> list:
    return [{k: v for k, v in chunk.items() if k not in _VOLATILE} for _, chunk in decode_chunks(record)]


def _common(chunks: list[dict]) -> dict:
    """The top-level fields every chunk carries with the same value (not choices, not usage)."""
    if not chunks:
        return {}
    first = chunks[0]
    return {k: v for k, v in first.items() if k not in ("choices", "usage")
            and all(k in c and c[k] == v for c in chunks[1:])}


def _choice_change(chunk: dict, envelope: dict, top: dict, choice: dict) -> dict | None:
    """The fields of a one-choice chunk's choice that differ from the template, when the rest of
    the chunk is the template's; None for a chunk of another shape."""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    if {k: v for k, v in chunk.items() if k not in envelope and k != "choices"} != top:
        return None
    if not all(k in choices[0] for k in choice):
        return None
    return {k: v for k, v in sorted(choices[0].items()) if k not in choice or choice[k] != v}


def _shape(chunk: dict, envelope: dict):
    """(rest of the chunk, the choice less its delta, (text key, text, the delta's nulls)) for a
    chunk whose delta is one piece of text beside null fields; None for any other chunk."""
    choices = chunk.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or not isinstance(choices[0], dict):
        return None
    delta = choices[0].get("delta")
    if not isinstance(delta, dict):
        return None
    texts = [k for k in _TEXT_KEYS if isinstance(delta.get(k), str)]
    if len(texts) != 1 or any(v is not None for k, v in delta.items() if k != texts[0]):
        return None
    top = {k: v for k, v in chunk.items() if k not in envelope and k != "choices"}
    choice = {k: v for k, v in choices[0].items() if k != "delta"}
    return top, choice, (texts[0], delta[texts[0]], {k: None for k in delta if k != texts[0]})
