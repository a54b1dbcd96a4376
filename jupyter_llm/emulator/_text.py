"""Deterministic reply text for the gateway emulator: reasoning, then Markdown.

Everything here is a pure function of a ``random.Random`` seeded from the request, so
the same request always reads the same. Text is produced as a list of *tokens*: a word
with its trailing space, or a punctuation or newline piece. Replies are built from
whole Markdown blocks, so any length is valid Markdown (fences and tables closed).
"""
from __future__ import annotations

import json
import random
import re

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef"
_TOKEN = re.compile(rf"[{_CJK}]|\w+ ?|\n+|[^\w\s]+ ?|\s+")
_CJK_CHAR = re.compile(f"[{_CJK}]")
_WORD = re.compile(r"[^\W\d_]{4,}")

_STOP = set("""about above after again also because been before being below between both
could does doing down during each every from further have having here into itself just
more most much need once only other ought over please same should some such than that
their theirs them then there these they this those through under until very what when
where which while will with would your yours tell show give make explain write using
bring today know like want""".split())

_NOUNS = """approach dataset model result value pattern function column estimate baseline
sample method parameter summary trend feature query index table budget cache batch
metric signal example step option constraint assumption record window output input
threshold score pipeline notebook reply request schedule""".split()
_ADJS = """simple robust clear useful careful small large typical reliable quick consistent
explicit practical stable common gradual narrow broad direct precise""".split()
_VERBS = """explains shows keeps changes reduces improves captures summarises checks returns
describes supports limits highlights clarifies affects sets measures""".split()
_OPENERS = ["In practice,", "Usually,", "For this case,", "As a rule,", "Note that", "Here,",
            "In most notebooks,", "At first glance,", "Put simply,", "Then"]
_TITLES = ["Overview", "Key points", "How it works", "Practical notes", "Details",
           "A worked example", "Trade-offs", "Next steps", "Summary", "Background"]
_LEADS = ["In short:", "Short answer:", "The gist:", "Bottom line:"]
_THINK = ["Let me think about what they really need.", "Hmm, what matters most here?",
          "Wait, I should double-check that.", "I want to keep the answer short and concrete.",
          "Maybe an example would help.", "Let me recall how this usually works.",
          "A list of the main points should be clear.", "Actually, the simplest framing is best."]

_MUSINGS = ["So I should mention the {} and the {}.", "The {} matters more than the {} here.",
            "Maybe start with the {}, then the {}.", "I could compare the {} with the {}.",
            "They probably care about the {} most.", "Is the {} really relevant? Probably, next to the {}.",
            "Careful: the {} depends on the {}."]


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
        if low in _STOP or low in seen:
            continue
        seen[low] = word if word[0].isupper() and i and not word.isupper() else low
    return list(seen.values())[:12]


class _Writer:
    """Builds sentences and Markdown blocks from one seeded generator."""

    def __init__(self, rng: random.Random, words: list[str]):
        self.rng = rng
        self.words = words or ["question"]

    def noun(self) -> str:
        r = self.rng
        return r.choice(self.words) if r.random() < 0.35 else r.choice(_NOUNS)

    def sentence(self) -> str:
        r = self.rng
        text = f"the {r.choice(_ADJS)} {self.noun()} {r.choice(_VERBS)} the {self.noun()}"
        if r.random() < 0.5:
            text = f"{r.choice(_OPENERS)} {text}"
        if r.random() < 0.4:
            text += f", which {r.choice(_VERBS)} a {r.choice(_ADJS)} {self.noun()}"
        if r.random() < 0.3:
            text += f" for {self.rng.choice(self.words)}"
        return text[0].upper() + text[1:] + "."

    def paragraph(self, n: int | None = None) -> str:
        return " ".join(self.sentence() for _ in range(n or self.rng.randint(2, 3)))

    def title(self) -> str:
        word = self.rng.choice(self.words)
        title = self.rng.choice(_TITLES)
        return f"{title}: {word}" if self.rng.random() < 0.5 else title

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
        word = re.sub(r"[^a-z]", "", self.noun().lower())
        return word or "data"

    def _code(self) -> str:
        r, name, arg = self.rng, self._ident(), self._ident() + "s"
        if r.random() < 0.5:
            body = (f"def count_{name}({arg}):\n"
                    f'    """{self.sentence()}"""\n'
                    f"    kept = [x for x in {arg} if x]\n"
                    f"    return len(kept)\n\n\n"
                    f"print(count_{name}([{r.randint(1, 9)}, 0, {r.randint(1, 9)}]))")
        else:
            values = ", ".join(str(r.randint(1, 99)) for _ in range(r.randint(3, 6)))
            body = (f"import statistics\n\n"
                    f"{name} = [{values}]\n"
                    f"print(statistics.mean({name}))  # {self.noun()}")
        return f"```python\n{body}\n```"

    def _table(self) -> str:
        r = self.rng
        head = f"| {self.noun().capitalize()} | Value | Note |\n|---|---:|---|"
        rows = "\n".join(f"| {self.noun()} | {r.randint(1, 999)} | {r.choice(_ADJS)} |"
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


def _one_block(rng: random.Random, writer: _Writer, n: int, shape: str) -> list[str]:
    if shape == "table":
        out = tokenize("| Item | Value | Note |\n|---|---:|---|\n")
        while len(out) < n:
            out += tokenize(f"| {writer.noun()} | {rng.randint(1, 999)} | {rng.choice(_ADJS)} |\n")
        return out
    out = tokenize("{")
    while len(out) < n:
        out += tokenize(f'"{writer.noun()}_{len(out)}": [{rng.randint(1, 999)}, "{rng.choice(_ADJS)}"], ')
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
            sentence = rng.choice(_THINK)
        else:
            sentence = rng.choice(_MUSINGS).format(writer.noun(), writer.noun())
        out += tokenize(sentence + " ")
    if exact:
        out = out[:n]
    if out:
        out[-1] = out[-1].rstrip(" ") + "\n"
    return out
