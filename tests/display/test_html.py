"""Markdown rendering in the kernel and the bundles of a finished reply's outputs."""
from __future__ import annotations

import re
import subprocess
import sys

from jupyter_llm.display.html import (
    refusal_bundle,
    answer_bundle,
    reasoning_bundle,
    reasoning_header,
    render_markdown,
    tool_calls_bundle,
    usage_bundle,
)
from jupyter_llm.core.reply import ToolCall


def test_markdown_renders_tables_strikethrough_and_safe_links():
    html = render_markdown(
        "| a | b |\n|---|---|\n| 1 | ~~2~~ |\n\n[site](https://example.org) [x](javascript:alert(1))"
    )
    assert "<table>" in html and "<s>2</s>" in html
    assert '<a href="https://example.org" target="_blank" rel="noopener">site</a>' in html
    assert "javascript:" not in html.replace("[x](javascript:alert(1))", "")


def test_raw_html_from_the_model_is_shown_as_text():
    html = render_markdown("<script>alert(1)</script>\n\nx <img src=x onerror=alert(1)> `<b>`")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<code>&lt;b&gt;</code>" in html


def test_reasoning_is_a_collapsed_details_with_a_plain_fallback():
    bundle = reasoning_bundle("Think **hard**.\n\n<b>no</b>", 3.24)
    assert bundle["text/plain"] == "Reasoning (26 chars, 3.2 s):\nThink **hard**.\n\n<b>no</b>"
    html = bundle["text/html"]
    assert re.fullmatch(r'<details style="[^"]*"><summary style="[^"]*">Reasoning · 26 chars · 3\.2 s</summary>\n'
                        r'<div style="[^"]*"><p>Think <strong>hard</strong>\.</p>\n<p>&lt;b&gt;no&lt;/b&gt;</p>\n'
                        r'</div></details>', html), html
    # Framed like the live view, in the theme's colours, so the dark theme frames it too.
    assert "border: 1px solid var(--jp-border-color1" in html and "var(--jp-layout-color2" in html
    assert reasoning_bundle("x" * 1234, None)["text/plain"].startswith("Reasoning (1,234 chars):\n")


def test_headers_count_characters_and_seconds():
    assert reasoning_header(1234, 2.06, thinking=True) == "Thinking… 1,234 chars · 2.1 s"
    assert reasoning_header(1234, 3.2) == "Reasoning · 1,234 chars · 3.2 s"


def test_answer_is_safe_markdown_with_the_text_as_is():
    assert answer_bundle("Hi <script>x()</script> `<b>`") == {
        "text/plain": "Hi <script>x()</script> `<b>`",
        "text/markdown": "Hi &lt;script>x()&lt;/script> `<b>`",
    }


def test_tool_calls_list_name_and_json_arguments():
    calls = [
        ToolCall("1", "get_weather", '{"city":"Paris"}'),
        ToolCall("2", "run", '{"code": "print(`x`)"}'),
        ToolCall("3", "broken", '{"a": '),
        ToolCall("4", "big", '{"text": "' + "y" * 1000 + '"}'),
    ]
    bundle = tool_calls_bundle(calls)
    lines = bundle["text/markdown"].splitlines()
    assert lines[:3] == ["**Tool calls**", "", '- `get_weather({"city": "Paris"})`']
    assert lines[3] == '- ``run({"code": "print(`x`)"})``'
    assert lines[4] == '- `broken({"a":)`'
    assert lines[5].endswith("…)`") and len(lines[5]) < 320
    assert bundle["text/plain"].splitlines()[1] == '  get_weather({"city": "Paris"})'


def test_usage_line_is_small_grey_and_escaped():
    assert usage_bundle("m · <1 s") == {
        "text/plain": "m · <1 s",
        "text/html": '<div style="color: grey; font-size: 0.85em">m · &lt;1 s</div>',
    }


def test_importing_the_package_loads_no_widgets_or_markdown():
    code = (
        "import sys, jupyter_llm.display, jupyter_llm.display.renderer\n"
        "print(sorted(m for m in ('ipywidgets', 'IPython.display', 'markdown_it') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_without_a_front_end_the_renderer_prints_the_text():
    code = """
from jupyter_llm.display.renderer import ReplyRenderer
from jupyter_llm.core.events import ContentDelta, Finished, ReasoningDelta
from jupyter_llm.core.reply import Reply
r = ReplyRenderer()
r.start(model="m")
for e in [ReasoningDelta("hmm"), ContentDelta("**Hello**"), Finished("stop")]:
    r.on_event(e)
r.finish(Reply(content="**Hello**", reasoning="hmm", model="m", finish_reason="stop"))
import sys; print("ipywidgets" in sys.modules)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[1:] == ["hmm", "**Hello**", "m", "False"]
    assert out.startswith("Reasoning (3 chars, ")


def test_plain_fallback_of_a_long_reply_is_its_start_and_a_count():
    from jupyter_llm.display.html import PLAIN_LIMIT, answer_bundle

    long = "\n".join(f"line {i} " + "x" * 70 for i in range(100))
    bundle = answer_bundle(long)
    plain = bundle["text/plain"]
    assert bundle["text/markdown"] == long
    assert len(plain) < PLAIN_LIMIT + 100 and long.startswith(plain.rsplit("\n…", 1)[0])
    assert plain.endswith("more characters in the rich output and in _llm)")
    assert answer_bundle("short")["text/plain"] == "short"


def test_a_refusal_is_said_as_such_and_its_text_made_safe():
    bundle = refusal_bundle("I can't help with <b>that</b>.")
    assert bundle["text/plain"] == "The model refused: I can't help with <b>that</b>."
    assert "&lt;b>that&lt;/b>" in bundle["text/markdown"] and bundle["text/markdown"].startswith("*The model refused:*")


def test_the_renderer_shows_a_revised_split_and_a_refusal_in_the_final_outputs():
    code = """
from jupyter_llm.display.renderer import ReplyRenderer
from jupyter_llm.core.events import ContentDelta, Finished, ReasoningDelta, RefusalDelta, Revised
from jupyter_llm.core.stream import ReplyBuilder
renderer, builder = ReplyRenderer(), ReplyBuilder("m")
for event in [ReasoningDelta("It is Paris."), Revised(reasoning="", content="It is Paris."),
              RefusalDelta("Not that, though."), Finished("stop")]:
    builder.add(event)
    renderer.on_event(event)
renderer.finish(builder.finish())
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.splitlines()[:2] == ["It is Paris.", "The model refused: Not that, though."]
    assert "Reasoning" not in done.stdout, "what streamed as reasoning was the answer"
