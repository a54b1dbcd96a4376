"""The code each benchmark runs inside a kernel: jupyter-llm, and the baselines.

The baselines are written the way a notebook author would write them without
jupyter-llm, with the openai SDK straight against the same emulator, so the only
difference measured is how the reply reaches the front end.
"""
from __future__ import annotations

from ._harness import MODEL

PROMPT = "Explain how to pick a rolling-window size for a noisy time series."

OURS_SETUP = f"""
%load_ext jupyter_llm
import jupyter_llm
jupyter_llm.session.model = {MODEL!r}
"""

OURS_CELL = f"%%llm -m {MODEL}\n{PROMPT}\n"

OURS_READBACK = "dict(content=_llm.content, reasoning=_llm.reasoning, tokens=_llm.usage.completion_tokens)"


def ours_headers(headers: dict) -> str:
    return f"jupyter_llm.session.extra_headers = {headers!r}"


# "The usual approach": every token re-displays the whole Markdown so far and re-sets the
# whole reasoning widget. Not throttled, on purpose: that is the cost being compared.
# ``stop_after`` (seconds) lets the harness cap a run that would take unbearably long.
BASELINE_SETUP = f"""
import html, os, time
import openai
import ipywidgets as widgets
from IPython.display import Markdown, display

_client = openai.OpenAI(base_url=os.environ["JUPYTER_LLM_BASE_URL"],
                        api_key=os.environ["JUPYTER_LLM_API_KEY"], max_retries=0)

def _chunks(headers):
    return _client.chat.completions.create(
        model={MODEL!r}, messages=[{{"role": "user", "content": {PROMPT!r}}}],
        stream=True, stream_options={{"include_usage": True}}, extra_headers=headers)

def naive_stream(headers, stop_after=None):
    box = widgets.HTML()
    panel = widgets.Accordion(children=[box], titles=("Reasoning",), selected_index=0)
    display(panel)
    handle = display(Markdown(""), display_id=True)
    answer = reasoning = ""
    tokens, pieces, capped, start = 0, 0, False, time.monotonic()
    stream = _chunks(headers)
    for chunk in stream:
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
        for choice in chunk.choices:
            delta = choice.delta
            think = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
            pieces += bool(think) + bool(delta.content)
            if think:
                reasoning += think
                box.value = "<pre style='white-space: pre-wrap'>" + html.escape(reasoning) + "</pre>"
            if delta.content:
                if panel.selected_index is not None:
                    panel.selected_index = None
                answer += delta.content
                handle.update(Markdown(answer))
        if stop_after is not None and time.monotonic() - start > stop_after:
            capped = True
            stream.close()
            break
    # A capped run never gets the usage chunk: count the pieces (one token each here).
    return dict(content=answer, reasoning=reasoning, tokens=tokens or pieces, capped=capped)

def quiet_stream(headers):
    # The raw SDK loop with no display at all: the floor for kernel CPU per token.
    answer, reasoning, tokens = [], [], 0
    for chunk in _chunks(headers):
        if chunk.usage:
            tokens = chunk.usage.completion_tokens
        for choice in chunk.choices:
            delta = choice.delta
            think = getattr(delta, "reasoning_content", None) or getattr(delta, "reasoning", None)
            if think:
                reasoning.append(think)
            if delta.content:
                answer.append(delta.content)
    return dict(content="".join(answer), reasoning="".join(reasoning), tokens=tokens)
"""


def naive_cell(headers: dict, stop_after: float | None = None) -> str:
    return f"_result = naive_stream({headers!r}, stop_after={stop_after!r})"


def quiet_cell(headers: dict) -> str:
    return f"_result = quiet_stream({headers!r})"


BASELINE_READBACK = "_result"
