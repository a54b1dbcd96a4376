"""The emulator's small lexicon: stop-words, and topic fields that give its answers some sense.

A test double has no model, yet it is also the demo: its vectors should put texts on one
topic near each other, and its replies should stay on the question's subject. Both read
the words here. A word belongs to a field when it, or its stem (a plural or verb ending
taken off), is listed; the lists are short on purpose and cover the bundled notebooks'
subjects and the usual classroom ones.
"""
from __future__ import annotations

import functools

STOP = frozenset("""a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing down during each every few for
from further had has have having he her here hers him his how i if in into is it its itself just
me more most much my need no nor not now of off on once only or other ought our ours out over own
please same she should so some such than that the their theirs them then there these they this
those through to too under until up very was we were what when where which while who whom why
will with would you your yours tell show give make explain write using bring today know like want
let get use find search look means one two""".split())

FIELDS = {
    "cooking": """bake bread dough flour yeast knead oven recipe cook roast simmer sauce cake batter
        sugar salt egg whisk butter onion soup steak vegetable garlic basil tomato chocolate kitchen
        starter sourdough proof caramelise fry boil pasta rice meal dish food taste sweet juice""",
    "astronomy": """planet star galaxy telescope sun moon orbit solar comet eclipse astronomy space
        jupiter saturn mars venus mercury neptune andromeda milky universe gravity black hole nebula
        neutron asteroid rocket astronaut infrared webb light cosmic""",
    "finance": """bank interest rate inflation bond yield stock market fund portfolio saving dividend
        mortgage budget income spending earning price cash money invest investor shareholder loan
        debt credit tax profit economy economic currency finance financial quarter""",
    "football": """football soccer goal match striker goalkeeper penalty referee tackle team league
        coach player midfielder ball fan cup final score scored win won lost defend formation
        transfer stadium kick pitch tournament""",
    "weather": """weather rain snow wind storm cloud sunny temperature forecast climate humid cold hot
        warm degree celsius fahrenheit""",
    "health": """health doctor patient disease medicine hospital symptom vaccine virus sleep exercise
        diet heart blood nurse treatment""",
    "data": """data dataset frame column row table value mean median average variance statistic
        sample regression model train test feature notebook python code function variable plot
        chart graph probability distribution p-value confidence interval""",
    "travel": """travel city country trip flight hotel train museum river mountain paris lyon nice
        london berlin rome france capital map tourist""",
}

_FIELD_OF = {word: field for field, words in FIELDS.items() for word in words.split()}
_ENDINGS = ("ies", "ing", "ed", "es", "s", "er")


@functools.lru_cache(maxsize=100_000)
def field(word: str) -> str | None:
    """The topic field of a lower-case ``word`` (or of its stem), or None."""
    if word in _FIELD_OF:
        return _FIELD_OF[word]
    for ending in _ENDINGS:
        stem = word[: -len(ending)]
        if word.endswith(ending) and len(stem) >= 3:
            for candidate in (stem, stem + "e", stem + "y"):
                if candidate in _FIELD_OF:
                    return _FIELD_OF[candidate]
    return None
