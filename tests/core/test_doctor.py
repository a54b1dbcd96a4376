"""The doctor against the emulator over HTTP, and its report as a table: every line ✓, ✗ or –,
what to do on each ✗, the time it took, and never the key."""
from __future__ import annotations

import importlib.metadata

from support import MIDDLE, TEST_KEY

from jupyter_llm.core import doctor, doctor_local
from jupyter_llm.core.doctor_report import Check, Report


def test_a_healthy_gateway_passes_every_check_in_well_under_five_seconds(llm):
    llm.model = "qwen3-32b"
    report = doctor.run(llm)
    assert report.ok, str(report)
    names = [c.name for c in report.checks]
    assert names == ["config files", "settings", "API key", "gateway URL", "proxy", "reachable", "key", "models",
                     "quota", "chat", "reasoning", "thinking switch", "embeddings", "rerank", "versions", "widgets"]
    assert report["reasoning"].found == "in its own field (reasoning)"
    assert report["thinking switch"].found == "honoured: no reasoning with thinking off"
    assert report["API key"].found == "sk-…cdef (37 characters), set in this session"
    assert report["quota"].found.startswith("unlimited")
    assert report.seconds < 5 and report.summary().startswith("jupyter-llm doctor: 16 checks in ")
    shown = str(report) + report._repr_mimebundle_()["text/html"]
    assert TEST_KEY not in shown and MIDDLE not in shown


def test_inline_reasoning_and_a_model_without_a_switch_are_told_as_such(llm):
    report = doctor.run(llm, model="qwen3-30b-a3b")
    assert report["reasoning"].found == "inline in the text, between <think> tags"
    report = doctor.run(llm, model="qwq-32b")
    assert report["thinking switch"].ok is None and "has no thinking switch" in report["thinking switch"].found


def test_the_report_renders_marks_advice_and_escapes_what_the_gateway_said():
    report = Report([Check("key", False, "refused: <b>no</b>", "Set the right key."),
                     Check("proxy", None, "none"), Check("chat", True, "fine", seconds=0.25)], seconds=1.04)
    assert not report.ok and [c.name for c in report.problems] == ["key"]
    assert str(report).splitlines() == ["jupyter-llm doctor: 3 checks in 1.0 s, 1 problem",
                                        "✗ key    refused: <b>no</b>", "         → Set the right key.",
                                        "– proxy  none", "✓ chat   fine  (0.25 s)"]
    html = report._repr_mimebundle_()["text/html"]
    assert "&lt;b&gt;no&lt;/b&gt;" in html and "<b>no</b>" not in html and "→ Set the right key." in html


def test_a_missing_or_mismatched_widget_front_end_is_a_problem_with_the_fix():
    def without(name):
        if name == "jupyterlab_widgets":
            raise importlib.metadata.PackageNotFoundError(name)
        return importlib.metadata.version(name)

    missing = doctor_local.setup(without)
    assert missing[0].found.endswith("jupyterlab_widgets (not installed)")
    assert missing[1].ok is False and "pip install jupyterlab_widgets" in missing[1].todo
    old = doctor_local.setup(lambda name: "1.1.0" if name == "jupyterlab_widgets" else "8.1.9")
    assert old[1].ok is False and "needs jupyterlab_widgets 3, not 1.1.0" in old[1].found


def test_keys_are_masked_to_their_start_end_and_length():
    assert doctor_local.masked(TEST_KEY) == "sk-…cdef (37 characters)"
    assert doctor_local.masked("abc") == "set (3 characters)" and doctor_local.masked(None) == "none"
    assert doctor_local.hide_password("http://ann:secret@proxy.example.org:3128") == "http://•••@proxy.example.org:3128"
