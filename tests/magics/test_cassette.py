"""%llm_cassette in a real kernel: switch modes, show the state, and a miss that names its cell."""
from __future__ import annotations

from support import TEST_KEY, closed_url


def test_a_miss_in_a_kernel_names_the_cell(kernel, tmp_path):
    path = tmp_path / "cell.llm.jsonl"
    setup = kernel.run(f"%load_ext jupyter_llm\n%llm_cassette {path} --mode record")
    assert setup.error is None and "record mode" in setup.text()
    first = kernel.run("%%llm -m qwen3-32b --no-think\nWhat is a data frame?")
    assert first.error is None, first.error
    kernel.run(f"%llm_cassette {path} --mode replay\n"
               f"jupyter_llm.session.base_url = {closed_url()!r}")
    same = kernel.run("%%llm -m qwen3-32b --no-think\nWhat is a data frame?")
    assert same.error is None, same.error
    changed = kernel.run("%%llm -m qwen3-32b --no-think\nWhat is a series?")
    error = changed.error
    assert error and error["ename"] == "CassetteMiss"
    count = changed.reply["execution_count"]
    assert f"cell [{count}] (`%%llm -m qwen3-32b --no-think`)" in error["evalue"]
    assert "recorded 'What is a data frame?', now 'What is a series?'" in error["evalue"]
    assert TEST_KEY not in changed.text() and TEST_KEY not in path.read_text(encoding="utf-8")


def test_llm_cassette_shows_the_state_and_refuses_bad_options(kernel, tmp_path):
    assert kernel.run("%load_ext jupyter_llm").error is None
    assert "no cassette" in kernel.run("%llm_cassette").text()
    shown = kernel.run(f"%llm_cassette {tmp_path / 'a.llm.jsonl'} --speed 2")
    assert "auto mode, 0 exchanges, replay 2x the recorded pace" in shown.text()
    bad = kernel.run("%llm_cassette --mode sometimes")
    assert bad.reply["status"] == "error" and "invalid choice" in bad.text() and "%llm_cassette?" in bad.text()
    # No path and no notebook path known: a clear error, and the cassette stays off.
    unknown = kernel.run("import jupyter_llm\njupyter_llm.session.cassette = None\n%llm_cassette --mode replay")
    assert unknown.reply["status"] == "error" and "%llm_cassette PATH" in unknown.text()
    assert "no cassette" in kernel.run("%llm_cassette").text()
    assert kernel.run("%llm_cassette --mode off").error is None
