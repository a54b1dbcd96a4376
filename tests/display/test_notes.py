"""Notes in a kernel: a quiet grey line in the output area, never red stderr; elsewhere stderr."""
from __future__ import annotations

from jupyter_llm.core.notes import note
from jupyter_llm.display.notes import bundle


def test_a_note_is_a_plain_line_and_the_same_line_small_and_grey():
    shown = bundle("40 of them <from> the cache")
    assert shown["text/plain"] == "jupyter-llm: 40 of them <from> the cache"
    assert "grey" in shown["text/html"] and "&lt;from&gt;" in shown["text/html"]
    assert set(shown) == {"text/plain", "text/html"}


def test_outside_a_kernel_a_note_goes_to_stderr(capsys):
    note("using qwq-32b")
    assert capsys.readouterr().err == "jupyter-llm: using qwq-32b\n"


def test_in_a_kernel_notes_are_display_data_and_stderr_stays_empty(kernel):
    kernel.run("%load_ext jupyter_llm")
    result = kernel.run("from jupyter_llm.core.notes import note\nnote('conversation cleared')")
    assert result.error is None, result.error
    assert result.notes() == "jupyter-llm: conversation cleared\n"
    assert not [m for m in result.messages if m["msg_type"] == "stream"]
    kernel.run("%unload_ext jupyter_llm")
    after = kernel.run("note('back on stderr')")
    streams = [m["content"] for m in after.messages if m["msg_type"] == "stream"]
    assert streams == [{"name": "stderr", "text": "jupyter-llm: back on stderr\n"}]


def test_a_kernel_that_imports_the_package_without_load_ext_still_gets_grey_notes(kernel):
    result = kernel.run("import jupyter_llm\njupyter_llm.ask(b'caf\\xe9 or tea?', display=False).content[:5]")
    assert result.error is None, result.error
    assert "the prompt is not valid UTF-8" in result.notes()
    assert not [m for m in result.messages if m["msg_type"] == "stream"], "nothing on red stderr"
