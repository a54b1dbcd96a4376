"""`jupyter-llm record`: run a notebook in record mode, then replay it under strict nbval; `jupyter-llm doctor`."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from support import MIDDLE, TEST_KEY, Kernel, closed_url

from jupyter_llm.cli import main


def test_record_a_notebook_then_replay_it_under_strict_nbval(emulator, tmp_path):
    import nbformat

    root = Path(__file__).resolve().parents[2]
    cells = [
        "%load_ext jupyter_llm\nimport jupyter_llm",
        "%%llm -m qwq-32b\nExplain what a data frame is.",
        "print(_llm.reasoning[:80]); print(_llm.usage.completion_tokens)",
        "%llm_models",
        "@jupyter_llm.tool\ndef add(a: int, b: int) -> int:\n    \"\"\"Add two numbers.\"\"\"\n    return a + b",
        "%%llm -m qwen3-32b --no-think --tools add\nWhat is 2 + 3? Use the tool.",
        "frame = jupyter_llm.embed(['a cat', 'a dog'], dimensions=32)\njupyter_llm.vectors(frame)[:, :4].round(4)",
        "jupyter_llm.rerank('pets', ['stocks fell', 'a cat sat'])",
    ]
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    notebook = tmp_path / "study.ipynb"
    nbformat.write(nb, notebook)
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_", "JPY_"))}
    base["JUPYTER_LLM_CONFIG_FILE"] = str(tmp_path / "none.toml")
    script = Path(sys.executable).with_name("jupyter-llm")
    done = subprocess.run([str(script), "record", str(notebook)], capture_output=True, text=True, timeout=300,
                          env=dict(base, JUPYTER_LLM_BASE_URL=emulator.url, JUPYTER_LLM_API_KEY=TEST_KEY))
    assert done.returncode == 0, done.stderr
    tape = tmp_path / "study.llm.jsonl"
    assert f"-> {tape.name} (" in done.stderr and "the gateway at http://127.0.0.1" in done.stderr
    saved = nbformat.read(notebook, as_version=4)
    assert [bool(c.outputs) for c in saved.cells] == [False, True, True, True, False, True, True, True]
    text = tape.read_text(encoding="utf-8")
    assert TEST_KEY not in text and MIDDLE not in text
    assert {json.loads(line).get("kind") for line in text.splitlines()} >= {"chat", "models", "embeddings", "rerank"}

    # Recorded again with the same answers: not one line of the cassette changes.
    again = subprocess.run([str(script), "record", str(notebook)], capture_output=True, text=True, timeout=300,
                           env=dict(base, JUPYTER_LLM_BASE_URL=emulator.url, JUPYTER_LLM_API_KEY=TEST_KEY))
    assert again.returncode == 0, again.stderr
    assert tape.read_text(encoding="utf-8") == text
    assert not list(tmp_path.glob(".jupyter-llm-record-*")), "the recording's folder is cleaned up"

    # Replay: the gateway is unreachable, the outputs must be the saved ones exactly.
    replay = dict(base, JUPYTER_LLM_BASE_URL=closed_url(), JUPYTER_LLM_API_KEY=TEST_KEY,
                  JUPYTER_LLM_CASSETTE=str(tape), JUPYTER_LLM_CASSETTE_MODE="replay")
    args = [sys.executable, "-m", "pytest", "--nbval", str(notebook), "-p", "no:cacheprovider", "-q",
            "--nbval-sanitize-with", str(root / "notebooks" / "nbval_sanitize.cfg"), "--rootdir", str(tmp_path)]
    run = subprocess.run(args, capture_output=True, text=True, timeout=300, env=replay, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-3000:]
    assert f"{len(cells)} passed" in run.stdout

    # And nbval notices when the replay differs: one changed prompt is a miss.
    nb = nbformat.read(notebook, as_version=4)
    nb.cells[1].source = "%%llm -m qwq-32b\nExplain what a series is."
    nbformat.write(nb, notebook)
    run = subprocess.run(args, capture_output=True, text=True, timeout=300, env=replay, cwd=tmp_path)
    assert run.returncode != 0 and "CassetteMiss" in run.stdout


def test_record_refuses_what_is_not_a_notebook(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello", encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["record", str(text)])
    assert "not a notebook file (.ipynb)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["record", str(tmp_path / "a.ipynb"), str(tmp_path / "b.ipynb"), "--cassette", "x.llm.jsonl"])


def test_autoload_loads_the_extension_in_every_new_kernel_and_remove_undoes_it(emulator, tmp_path, kernel_env):
    env = dict(kernel_env, IPYTHONDIR=str(tmp_path / "ipython"))
    config = tmp_path / "ipython" / "profile_default" / "ipython_config.py"
    config.parent.mkdir(parents=True)
    config.write_text("c.InteractiveShell.colors = 'nocolor'\n")
    script = Path(sys.executable).with_name("jupyter-llm")
    for _ in range(2):
        done = subprocess.run([str(script), "autoload"], capture_output=True, text=True, env=env, timeout=60)
        assert done.returncode == 0, done.stderr
    assert "already loads in every new kernel" in done.stdout and str(config) in done.stdout
    text = config.read_text()
    assert text.startswith("c.InteractiveShell.colors = 'nocolor'\n") and text.count("jupyter_llm") == 1

    kernel = Kernel(env)
    try:
        result = kernel.run("%%llm -m qwen72b-awq\nSay hello.")
        assert result.error is None and result.reply["status"] == "ok", "%%llm works with no %load_ext"
    finally:
        kernel.shutdown()

    done = subprocess.run([str(script), "autoload", "--remove"], capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0 and "no longer loaded" in done.stdout
    assert config.read_text() == "c.InteractiveShell.colors = 'nocolor'\n"
def test_doctor_in_a_terminal_prints_the_table_and_fails_on_a_problem(emulator, tmp_path):
    base = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_", "JPY_"))}
    base.update(JUPYTER_LLM_CONFIG_FILE=str(tmp_path / "none.toml"), JUPYTER_LLM_API_KEY=TEST_KEY,
                JUPYTER_LLM_MODEL="qwen3-32b")
    script = Path(sys.executable).with_name("jupyter-llm")
    healthy = subprocess.run([str(script), "doctor"], capture_output=True, text=True, timeout=120,
                             env=dict(base, JUPYTER_LLM_BASE_URL=emulator.url))
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
    assert ", no problems" in healthy.stdout and "✓ chat             qwen3-32b: first token after" in healthy.stdout
    dead = subprocess.run([str(script), "doctor", "--timeout", "2"], capture_output=True, text=True, timeout=120,
                          env=dict(base, JUPYTER_LLM_BASE_URL=closed_url()))
    assert dead.returncode == 1
    assert "✗ reachable        could not connect" in dead.stdout and "→ Could not reach the gateway" in dead.stdout
    for done in (healthy, dead):
        assert TEST_KEY not in done.stdout + done.stderr and MIDDLE not in done.stdout + done.stderr
