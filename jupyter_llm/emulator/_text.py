"""Deterministic reply text for the gateway emulator: reasoning, then Markdown.

The emulator is a test double, and also the demo a newcomer sees first, so its text says
what it is: placeholder prose about the question's own subject ("A model would explain
how bread relates to flour here."), never sentences that pass for a confused answer.
Subject words come from the prompt, and related words from their topic field in the
lexicon. Everything is a pure function of a ``random.Random`` seeded from the request, so
the same request always reads the same. Text is produced as a list of *tokens*: a word
with its trailing space, or a punctuation or newline piece. Replies are built from whole
Markdown blocks, so any length is valid Markdown (fences and tables closed).
"""
from __future__ import annotations

import json
import random
import re

from ._lexicon import FIELDS, STOP, field

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK}]|\w+ ?|\n+|[^\w\s]+ ?|\s+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_WORD = re.compile(r"(?:[^\W\d_]+-)*[^\W\d_]{4,}")  # p-value is one word

#: Said once, under the question: a reader of any saved notebook knows what this text is.
NOTICE = "*Placeholder text from the built-in emulator, a test double: no model wrote this.*"

_SENTENCES = ["A model would explain {a} here, in plain words.",
              "This sentence stands in for a point about {a}.",
              "Here a real answer would connect {a} with {b}.",
              "A worked example about {a} would follow at this point.",
              "The answer would say what {a} means for your {b}.",
              "A model might add a caveat about {a} here.",
              "Then it would compare {a} and {b}, briefly.",
              "One or two facts about {a} would go here.",
              "A short definition of {a} would fit in this line.",
              "The usual mistake with {a} would be named here.",
              "A number or two about {b} would back this up.",
              "Why {a} matters to {b} would be the next point.",
              "A source on {a} would be cited here.",
              "A model would sum up {a} and {b} in one line here."]
_LEADS = ["In short:", "Short answer:", "The gist:", "Bottom line:"]
_TITLES = ["{A}", "About {a}", "{A} and {b}", "{A}: the main points", "Next steps with {a}",
           "{A} in practice", "How {a} works", "{A}, {b} and the rest", "A closer look at {a}"]
_THINK = ["Let me think about what they really need.", "Hmm, what matters most here?",
          "Wait, I should double-check that.", "I want to keep the answer short and concrete.",
          "Maybe an example would help.", "Let me recall how this usually works.",
          "A list of the main points should be clear.", "Actually, the simplest framing is best."]
_MUSINGS = ["So I should mention {a} and {b}.", "{A} matters more than {b} here.",
            "Maybe start with {a}, then {b}.", "I could compare {a} with {b}.",
            "They probably care about {a} most.", "Is {a} really relevant? Probably, next to {b}.",
            "Careful: {a} depends on {b}."]


def tokenize(text: str) -> list[str]:
    """Split text into emulator tokens; ``"".join(tokenize(t)) == t``."""
    return _TOKEN.findall(text)


def estimate_tokens(text: str) -> int:
    """Rough prompt size: a CJK character is a token, other text ~4 characters a token."""
    cjk = len(_CJK_CHAR.findall(text))
    return cjk + -(-(len(text) - cjk) // 4)


def gist(text: str, limit: int = 80) -> str:
    """The first ``limit`` characters of a message, on one line, cut at a word."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    cut = flat[:limit].rsplit(" ", 1)[0] or flat[:limit]
    return cut + "…"


def topics(text: str) -> list[str]:
    """Content words of the prompt, in order, without repeats (for topical replies).

    Names keep their capital (Paris stays Paris); other words are lower-cased.
    """
    seen: dict[str, str] = {}
    for i, match in enumerate(_WORD.finditer(text)):
        word, low = match.group(), match.group().lower()
        if low in STOP or low in seen:
            continue
        seen[low] = word if word[0].isupper() and i and not word.isupper() else low
    return list(seen.values())[:12]


def related(words: list[str], limit: int = 8) -> list[str]:
    """Words of the topic fields of ``words`` (bread: flour, oven, ...), not in ``words``."""
    fields = dict.fromkeys(f for f in map(field, (w.lower() for w in words)) if f)
    have = {w.lower() for w in words}
    out = [w for f in fields for w in FIELDS[f].split() if w not in have and "-" not in w]
    return out[:limit]


class _Writer:
    """Builds placeholder sentences and Markdown blocks on the prompt's subject, from one seeded generator."""

    def __init__(self, rng: random.Random, words: list[str]):
        self.rng = rng
        self.words = words or ["your question"]
        # Without a topic field, generic companions: "hello and hello" would read as broken.
        self.nearby = related(self.words) or ["context", "examples", "details"]
        self._last = ""

    def pick(self, templates: list[str]) -> str:
        """A template, never the one picked just before (a repeated sentence reads as broken)."""
        choice = self.rng.choice([t for t in templates if t != self._last] or templates)
        self._last = choice
        return choice

    def noun(self) -> str:
        """A subject word: mostly the prompt's own, sometimes one of its field."""
        r = self.rng
        return r.choice(self.words) if r.random() < 0.7 else r.choice(self.nearby)

    def fill(self, template: str) -> str:
        """``template`` with ``{a}``/``{A}`` and ``{b}`` set to two different subject words."""
        a = self.noun()
        b = next((w for w in (self.noun() for _ in range(4)) if w != a), self.rng.choice(self.nearby))
        return template.format(a=a, b=b, A=a[:1].upper() + a[1:])

    def sentence(self) -> str:
        return self.fill(self.pick(_SENTENCES))

    def paragraph(self, n: int | None = None) -> str:
        return " ".join(self.sentence() for _ in range(n or self.rng.randint(2, 3)))

    def title(self) -> str:
        return self.fill(self.rng.choice(_TITLES))

    def block(self, kind: str) -> str:
        r = self.rng
        if kind == "heading":
            return f"{'#' * r.choice((2, 3))} {self.title()}"
        if kind == "lead":
            return f"**{r.choice(_LEADS)}** {self.sentence()}"
        if kind == "bullets":
            return "\n".join(
                f"- **{self.noun().capitalize()}**: {self.sentence()}" if r.random() < 0.5
                else f"- {self.sentence()}" for _ in range(r.randint(3, 4)))
        if kind == "numbered":
            return "\n".join(f"{i}. {self.sentence()}" for i in range(1, r.randint(3, 4) + 1))
        if kind == "code":
            return self._code()
        if kind == "table":
            return self._table()
        if kind == "quote":
            return f"> {self.sentence()}"
        return self.paragraph()

    def _ident(self) -> str:
        word = re.sub(r"[^a-z]", "", self.rng.choice(self.words).lower())
        return word or "data"

    def _code(self) -> str:
        r, name, arg = self.rng, self._ident(), self._ident() + "s"
        values = ", ".join(str(r.randint(1, 99)) for _ in range(r.randint(3, 6)))
        kind = r.randrange(3)
        if kind == 0:
            body = (f"def count_{name}({arg}):\n"
                    f'    """Placeholder code: count the {arg} that are set."""\n'
                    f"    kept = [x for x in {arg} if x]\n"
                    f"    return len(kept)\n\n\n"
                    f"print(count_{name}([{r.randint(1, 9)}, 0, {r.randint(1, 9)}]))")
        elif kind == 1:
            body = (f"from statistics import {r.choice(('mean', 'median'))} as middle\n"
                    f"{name} = [{values}]  # placeholder values\n"
                    f"print(middle({name}))")
        else:
            keys = list(dict.fromkeys([self._ident() for _ in range(4)] + ["other"]))[:2]
            body = (f"{name} = {{{', '.join(f'{w!r}: {r.randint(1, 99)}' for w in keys)}}}\n"
                    f"for key, value in sorted({name}.items()):  # placeholder data\n"
                    f"    print(key, value)")
        return f"```python\n{body}\n```"

    def _table(self) -> str:
        r = self.rng
        head = f"| {self.noun().capitalize()} | Value | Note |\n|---|---:|---|"
        rows = "\n".join(f"| {self.noun()} | {r.randint(1, 999)} | placeholder |"
                         for _ in range(r.randint(2, 4)))
        return f"{head}\n{rows}"


_LONG_MIX = ("paragraph", "paragraph", "paragraph", "bullets", "numbered", "code", "table",
             "quote", "heading")


def answer(rng: random.Random, prompt: str, n: int | None, preface: str = "", shape: str = "mixed") -> list[str]:
    """The Markdown answer as tokens: ``preface``, then blocks, exactly ``n`` tokens.

    Without ``n`` it is a natural short answer (roughly 60 to 150 tokens). ``shape`` ``table``
    is one table of about ``n`` tokens, ``json-line`` one line of JSON (what a model asked for
    data writes); both are cut at a whole row or item.
    """
    writer = _Writer(rng, topics(prompt))
    if shape != "mixed" and n:
        return _one_block(rng, writer, n, shape)
    if n is None:
        return _natural(rng, writer, preface, prompt)
    out = tokenize(preface)[:n]
    plan = iter(["heading" if rng.random() < 0.5 else "lead", "paragraph",
                 rng.choice(("bullets", "numbered"))])
    while len(out) < n:
        remaining = n - len(out)
        kind = next(plan, None) or rng.choice(_LONG_MIX)
        pieces = (["\n\n"] if out else []) + tokenize(writer.block(kind))
        if len(pieces) <= remaining:
            out += pieces
        else:
            out += _filler(writer, remaining, bool(out))
    return out


def records(rng: random.Random, prompt: str, n: int, piece: int = 1) -> list[tuple[str, int]]:
    """A fenced JSON array of records of about ``n`` tokens, in pieces with their token counts.

    What a model writes when asked for "the data as JSON": indented two spaces, a key a
    line, as the emulator's other JSON answers. A piece is whole records of ``piece``
    tokens or more (a record is ~33), not one token each, so a reply of millions of tokens
    stays a list the emulator can hold and plans in a second or two; a piece counts ~4
    characters a token, and ``chunk_tokens`` groups pieces as it groups tokens.
    """
    writer = _Writer(rng, topics(prompt))
    # Each record's fields come from a palette drawn once, by one small draw.
    palette = [f'"item": "{writer.noun()}",\n    "category": "{writer.noun()}",\n    "value": '
               f'{rng.randint(1, 99999) / 100},\n    "count": {rng.randint(0, 999)},\n    "active": '
               f'{"true" if rng.random() < 0.5 else "false"}\n  }}' for _ in range(4096)]
    out = [("```json\n[\n", 3)]
    spent, i, texts, tokens = 3, 0, [], 0
    while spent < n or not i:
        i += 1
        record = f'  {{\n    "id": {i},\n    {palette[rng.getrandbits(12)]}'
        cost = -(-(len(record) + 2) // 4)
        spent += cost
        texts.append(record + (",\n" if spent < n else "\n"))
        tokens += cost
        if tokens >= piece or spent >= n:
            out.append(("".join(texts), tokens))
            texts, tokens = [], 0
    out.append(("]\n```", 2))
    return out


def _one_block(rng: random.Random, writer: _Writer, n: int, shape: str) -> list[str]:
    if shape == "table":
        out = tokenize("| Item | Value | Note |\n|---|---:|---|\n")
        while len(out) < n:
            out += tokenize(f"| {writer.noun()} | {rng.randint(1, 999)} | placeholder |\n")
        return out
    out = tokenize("{")
    while len(out) < n:
        out += tokenize(f'"{writer.noun()}_{len(out)}": [{rng.randint(1, 999)}, "{writer.noun()}"], ')
    return out + tokenize('"end": true}')


_ASKS = {"json": re.compile(r"\bjson\b", re.I), "html": re.compile(r"\bhtml\b", re.I),
         "code": re.compile(r"\b(code|python|function|script)\b", re.I)}


def _json_block(writer: _Writer, rng: random.Random) -> str:
    items = writer.words[:3] or ["value"]
    body = {"topic": items[0], "items": items, "count": len(items), "score": rng.randint(1, 99) / 100}
    return "```json\n" + json.dumps(body, indent=2, ensure_ascii=False) + "\n```"


def _html_block(writer: _Writer, rng: random.Random) -> str:
    rows = "".join(f"<tr><td>{writer.noun()}</td><td>{rng.randint(1, 999)}</td></tr>" for _ in range(3))
    return f"```html\n<table>\n<tr><th>Item</th><th>Value</th></tr>\n{rows}\n</table>\n```"


def _natural(rng: random.Random, writer: _Writer, preface: str, prompt: str = "") -> list[str]:
    """A default-length answer: lead, paragraph, list, sometimes code or a table.

    A prompt that asks for JSON, HTML or code gets it in a fenced block, as a model writes it.
    """
    asked = {kind for kind, pattern in _ASKS.items() if pattern.search(prompt)}
    if asked & {"json", "html"}:
        block = _json_block(writer, rng) if "json" in asked else _html_block(writer, rng)
        answer_blocks = [writer.sentence(), block]
        return tokenize("\n\n".join([preface, *answer_blocks] if preface else answer_blocks))
    blocks = [writer.block("heading" if rng.random() < 0.5 else "lead"), writer.paragraph(),
              writer.block(rng.choice(("bullets", "numbered")))]
    if "code" in asked or rng.random() < 0.35:
        blocks.append(writer.block("code"))
    elif rng.random() < 0.3:
        blocks.append(writer.block("table"))
    if rng.random() < 0.5:
        blocks.append(writer.paragraph(1))
    return tokenize("\n\n".join([preface, *blocks] if preface else blocks))


def _filler(writer: _Writer, n: int, separate: bool) -> list[str]:
    """A final paragraph of exactly ``n`` tokens, ending in a full stop."""
    if n == 1:
        return ["\n"] if separate else ["Done."]
    words: list[str] = []
    need = n - 1 if separate else n
    while len(words) < need:
        words += writer.paragraph(2).split()
    words = words[:need]
    words[-1] = words[-1].rstrip(".,") + "."
    pieces = [w + " " for w in words[:-1]] + [words[-1]]
    return (["\n\n"] if separate else []) + pieces


def reasoning(rng: random.Random, prompt: str, n: int | None, plan: str = "") -> list[str]:
    """Thinking text as tokens (40 to 80 unless ``n`` is given), ending in a newline."""
    exact = n is not None
    if n is None:
        n = rng.randint(40, 80)
    words = topics(prompt)
    subject = gist(prompt, 60) or "this"
    text = f'Okay, the user asks: "{subject}". '
    sentences = [plan] if plan else []
    writer = _Writer(rng, words)
    out = tokenize(text)
    while len(out) < n:
        if sentences:
            sentence = sentences.pop(0)
        elif rng.random() < 0.5:
            sentence = writer.pick(_THINK)
        else:
            sentence = writer.fill(writer.pick(_MUSINGS))
        out += tokenize(sentence + " ")
    if exact:
        out = out[:n]
    if out:
        out[-1] = out[-1].rstrip(" ") + "\n"
    return out
