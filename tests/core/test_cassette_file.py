"""The cassette file: appends under a lock, so no recording is ever lost, and a bad line
is one ConfigError naming it."""
from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from support import Kernel, kernel_environment, unreachable

import jupyter_llm
from jupyter_llm import cassette, errors


TWO_KERNELS = """
import jupyter_llm
with jupyter_llm.cassette({path!r}, mode="auto"):
    for i in range(5):
        jupyter_llm.ask(f"{who} question {{i}}", model="qwen3-32b", think=False, display=False)
print("done")
"""


def test_two_kernels_recording_one_cassette_at_once_keep_every_exchange(emulator, tmp_path):
    """Each used to rewrite the whole file from its own memory: the last writer won (6 of 10 kept)."""
    path = tmp_path / "shared.llm.jsonl"
    env = kernel_environment(emulator.url, tmp_path / "config.toml")
    env["JUPYTER_LLM_CONFIG_FILE"] = str(tmp_path / "none.toml")
    kernels = [Kernel(env), Kernel(env)]
    try:
        for k in kernels:
            k.run("import jupyter_llm")
        with ThreadPoolExecutor(2) as pool:
            runs = list(pool.map(lambda pair: pair[0].run(TWO_KERNELS.format(path=str(path), who=pair[1]), timeout=120),
                                 zip(kernels, ("first", "second"))))
        assert all(r.error is None and "done" in r.text() for r in runs)
    finally:
        for k in kernels:
            k.shutdown()
    lines = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()[1:]]
    chats = [line for line in lines if line["kind"] == "chat"]  # the others are model lists
    prompts = {line["request"]["messages"][0]["content"] for line in chats}
    assert prompts == {f"{who} question {i}" for who in ("first", "second") for i in range(5)} and len(chats) == 10
    assert len(cassette.Cassette(path, "replay")) == len(lines)


def test_an_outside_edit_during_a_session_is_never_overwritten(llm, tmp_path):
    path = tmp_path / "edited.llm.jsonl"
    with jupyter_llm.cassette(path, mode="auto"):
        jupyter_llm.ask("First.", model="qwen3-32b", display=False)
        before = path.stat().st_ino
        # A git checkout replaces the file; another tool appends to it.
        kept = tmp_path / "other.llm.jsonl"
        with jupyter_llm.cassette(kept, mode="record"):
            jupyter_llm.ask("From the branch.", model="qwen3-32b", display=False)
        os.replace(kept, path)
        jupyter_llm.ask("Second.", model="qwen3-32b", display=False)
    text = path.read_text(encoding="utf-8")
    assert "From the branch." in text and "Second." in text
    assert path.stat().st_ino != before and len(cassette.Cassette(path, "replay")) == 2


def test_recording_appends_and_never_rewrites_what_is_there(llm, tmp_path):
    """O(1) per exchange: the file grows by one line, the bytes before it untouched."""
    path = tmp_path / "grow.llm.jsonl"
    with jupyter_llm.cassette(path, mode="record"):
        jupyter_llm.ask("One.", model="qwen3-32b", display=False)
        first, inode = path.read_bytes(), path.stat().st_ino
        jupyter_llm.embed(["a", "b"], cache=False)
        jupyter_llm.ask("Two.", model="qwen3-32b", display=False)
    after = path.read_bytes()
    assert after.startswith(first) and after.count(b"\n") >= first.count(b"\n") + 2 and path.stat().st_ino == inode


def unwritable(tmp_path) -> Path:
    """A cassette path in a folder that cannot be written (root may write anywhere but sysfs)."""
    if os.geteuid() == 0:
        return Path("/sys") / f"jupyter-llm-test-{os.getpid()}.llm.jsonl"
    folder = tmp_path / "locked"
    folder.mkdir()
    folder.chmod(0o555)
    return folder / "run.llm.jsonl"


def test_a_folder_that_cannot_be_written_is_a_warning_and_the_reply_is_kept(kernel, tmp_path):
    path = unwritable(tmp_path)
    result = kernel.run(f"%load_ext jupyter_llm\n%llm_cassette {path} --mode record")
    assert result.error is None
    result = kernel.run("%%llm -m qwen3-32b --no-think\nName a river.")
    assert result.error is None, result.error
    notes = result.notes()
    assert f"could not record to {path}" in notes and "shown and kept, but not recorded" in notes
    assert "Traceback" not in result.text() and "PermissionError" in notes
    assert kernel.run("print(_llm.complete, len(_llm.content) > 20)").text().count("True True") == 1
    assert not path.exists()


def test_a_read_only_cassette_is_never_written(llm, tmp_path, capsys):
    path = tmp_path / "frozen.llm.jsonl"
    with jupyter_llm.cassette(path, mode="record"):
        jupyter_llm.ask("Kept.", model="qwen3-32b", display=False)
    path.chmod(0o444)
    frozen = path.read_bytes()
    try:
        for mode in ("record", "auto"):
            with jupyter_llm.cassette(path, mode=mode):
                reply = jupyter_llm.ask(f"New in {mode}.", model="qwen3-32b", display=False)
            assert reply.complete and reply.content
        assert path.read_bytes() == frozen and oct(path.stat().st_mode & 0o777) == "0o444"
        assert capsys.readouterr().err.count("frozen.llm.jsonl is read-only, so it was not written") == 2
    finally:
        path.chmod(0o644)


@pytest.mark.parametrize("garbage, says", [
    ("42", "line 2, it holds int 42, not an exchange"),
    ("null", "line 2, it holds NoneType null"),
    ('{"kind": "chat"}', "line 2, it has no n and no request"),
    ('{"kind": "chat", "n": 0, "request": {}}', "line 2, its chunks are missing"),
    ('{"kind": "tts", "n": 0, "request": {}, "response": 1}', "line 2, its kind 'tts' is not one of"),
    ("{not json", "line 2, is not JSON"),
    ('{"jupyter_llm_cassette": 9}', "line 2, says format 9, newer than this jupyter-llm reads"),
])
def test_a_bad_line_is_a_config_error_naming_the_line(llm, tmp_path, garbage, says):
    path = tmp_path / "bad.llm.jsonl"
    path.write_text('{"jupyter_llm_cassette": 2}\n' + garbage + "\n", encoding="utf-8")
    for mode in ("replay", "auto", "record"):
        with pytest.raises(errors.ConfigError) as caught:
            with jupyter_llm.cassette(path, mode=mode):
                jupyter_llm.ask("hi", model="qwen3-32b", display=False)
        assert f"{path}, {says}" in str(caught.value) and "jupyter-llm record" in str(caught.value)


def test_a_re_run_in_auto_mode_shows_what_a_fresh_replay_shows(llm, emulator, tmp_path):
    """Re-running a cell used to record it again: the notebook showed the second answer, and a
    fresh replay of the notebook the first."""
    path = tmp_path / "rerun.llm.jsonl"
    with jupyter_llm.cassette(path, mode="auto"):
        first = jupyter_llm.ask("Name a lake.", model="qwen3-32b", display=False)
        llm.extra_headers = {"X-Emulator": "answer_tokens=40"}  # the server would answer otherwise now
        shown = jupyter_llm.ask("Name a lake.", model="qwen3-32b", display=False)
    unreachable(llm)
    with jupyter_llm.cassette(path, mode="replay"):
        fresh = jupyter_llm.ask("Name a lake.", model="qwen3-32b", display=False)
    assert shown.content == first.content == fresh.content
