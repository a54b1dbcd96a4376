"""A workshop as the students see it, in real kernels against the emulator: an instructor's
system-wide file gives the default model, the allow-list, budgets and concurrency; the
gateway's quota shows in %llm_usage and in the settings panel; the workshop notebook opens
in fallback mode, replays its answers and sends an edited prompt live."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from support import MIDDLE, TEST_KEY, Kernel, kernel_environment, kernel_value, opening_environment

pytestmark = pytest.mark.timeout(240)

SYSTEM = """
model = "qwen3-32b"
think = false
allowed_models = ["qwen3-*", "Qwen3-Embedding-8B"]
budget_requests = 3
max_concurrency = 2
price_per_1k_tokens = 0.5
extra_headers = {"X-Emulator" = "quota=1; price=0.5"}
"""


@pytest.fixture
def student(emulator, tmp_path):
    """A student's kernel under an instructor's system-wide file."""
    folder = tmp_path / "etc-jupyter"
    folder.mkdir()
    (folder / "jupyter_llm.toml").write_text(SYSTEM)
    kernel = Kernel(dict(kernel_environment(emulator.url, tmp_path / "config.toml"),
                         JUPYTER_CONFIG_PATH=str(folder)))
    kernel.run("%load_ext jupyter_llm\nimport jupyter_llm")
    emulator.reset()
    yield kernel
    kernel.shutdown()


def posts(emulator) -> int:
    return len([r for r in emulator.requests if r["method"] == "POST"])



def test_students_see_only_the_allowed_models_and_another_is_refused_before_sending(student, emulator):
    models = student.run("%llm_models")
    table = [m for m in models.outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"]
    assert "qwen3-32b" in table and "Qwen3-Embedding-8B" in table
    assert "qwq-32b" not in table and "bge-reranker" not in table
    refused = student.run("%%llm -m qwq-32b\nhello")
    assert refused.error["ename"] == "ModelNotAllowed" and len(refused.error["traceback"]) == 1
    assert "qwq-32b is not among the models allowed here (qwen3-*, Qwen3-Embedding-8B" in refused.error["evalue"]
    assert posts(emulator) == 0
    answered = student.run("%%llm\nhello")
    assert answered.error is None and emulator.requests[-1]["body"]["model"] == "qwen3-32b"
    assert emulator.requests[-1]["body"]["chat_template_kwargs"] == {"enable_thinking": False}


def test_the_budget_stops_the_next_request_and_usage_shows_what_is_left(student, emulator):
    widened = student.run("%llm_config budget_requests=100 max_concurrency=16")
    assert "would go past the limit of 3 set in the system config file" in widened.notes()
    assert kernel_value(student, "[jupyter_llm.session.budget_requests, jupyter_llm.session.max_concurrency]") == [3, 2]
    for _ in range(2):
        assert student.run("%%llm\nhello").error is None
    usage = student.run("%llm_usage")
    said = usage.notes()
    assert "budget: 1 of 3 requests left" in said
    assert "quota at the gateway: 0." in said and "of 1.00 left" in said and "tokens at 0.5 per 1,000" in said
    assert student.run("%%llm\nthird").error is None
    stopped = student.run("%%llm\nfourth")
    assert stopped.error["ename"] == "BudgetExceeded" and "nothing was sent" in stopped.error["evalue"]
    assert "ask whoever runs it (the instructor)" in stopped.error["evalue"]
    assert posts(emulator) == 3
    for result in (usage, stopped):
        assert TEST_KEY not in result.text() and MIDDLE not in result.text()


def test_a_reply_stopped_by_the_token_budget_keeps_its_text_in_the_notebook(kernel, emulator):
    kernel.run("%load_ext jupyter_llm\nimport jupyter_llm\njupyter_llm.session.budget_tokens = 60\n"
               "jupyter_llm.session.extra_headers = {'X-Emulator': 'answer_tokens=300'}")
    stopped = kernel.run("%%llm -m qwen3-32b --no-think\nWrite a long essay.")
    assert stopped.error["ename"] == "BudgetExceeded"
    assert "stopped at the session's budget of 60 tokens" in stopped.error["evalue"]
    kept = kernel_value(kernel, "_llm.content")
    assert len(kept) > 40 and kept[:20] in stopped.text()  # the text that arrived is shown and kept
    usage = kernel.run("%llm_usage")
    assert "budget: 0 of 60 tokens left" in usage.notes()


def test_the_settings_panel_shows_the_quota_left(student):
    student.run("panel = jupyter_llm.SettingsPanel()\nawait panel.quota_task")
    shown = kernel_value(student, "panel.quota.value")
    assert "Quota at the gateway: 1.00 of 1.00 left (0.00 used)" in shown
    assert kernel_value(student, "list(panel.model.options)") == ["qwen3-32b", "qwen3-30b-a3b"]


ROOT = Path(__file__).resolve().parents[2]


def test_make_lab_and_binder_open_the_notebooks_in_fallback_mode():
    recipe = subprocess.run(["make", "-n", "lab"], cwd=ROOT, capture_output=True, text=True)
    assert "binder/start .venv/bin/jupyter lab --notebook-dir=notebooks" in recipe.stdout
    assert opening_environment()["JUPYTER_LLM_CASSETTE_MODE"] == "fallback"


@pytest.fixture
def workshop(tmp_path):
    """A copy of the shipped workshop notebook, its cassette and its data."""
    for name in ("workshop.ipynb", "workshop.llm.jsonl"):
        shutil.copy(ROOT / "notebooks" / name, tmp_path / name)
    (tmp_path / "data").symlink_to(ROOT / "notebooks" / "data")
    return tmp_path / "workshop.ipynb"


def test_the_workshop_notebook_replays_its_answers_and_an_edited_prompt_goes_live(workshop, emulator, tmp_path):
    import nbformat

    notebook = nbformat.read(workshop, as_version=4)
    assert "This is the cassette's *fallback* mode, which Binder and `make lab` turn on." in notebook.cells[0].source
    env = {**opening_environment(), **kernel_environment(emulator.url, tmp_path / "config.toml"),
           "JPY_SESSION_NAME": str(workshop)}
    tape = workshop.with_suffix("").with_suffix(".llm.jsonl")
    shipped, stamp = tape.read_bytes(), tape.stat().st_mtime_ns
    kernel = Kernel(env)
    try:
        kernel.run(f"import os\nos.chdir({str(workshop.parent)!r})")
        emulator.reset()
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            ran = kernel.run(cell.source)
            assert ran.error is None, (cell.source, ran.error)
            for saved in (o for o in cell.outputs if "text/markdown" in o.get("data", {})):
                assert saved["data"]["text/markdown"] in ran.text().replace("\\n", "\n").replace('\\"', '"')
        assert posts(emulator) == 0, "every answer came from the cassette"
        edited = kernel.run("%%llm -m qwen3-32b --no-think\nWhat is a language model, in one sentence?")
        assert edited.error is None
        assert "has no answer for this chat request: sent live, not recorded (fallback mode)" in edited.notes()
        again = kernel.run("%%llm -m qwen3-32b --no-think\nIs 223 a prime number?")
        assert "has no answer for this chat request" in again.notes(), "each cell that goes live says so"
        sent = [r["body"] for r in emulator.requests if r["method"] == "POST"]
        assert [b["messages"][-1]["content"] for b in sent] == ["What is a language model, in one sentence?",
                                                                "Is 223 a prime number?"]
    finally:
        kernel.shutdown()
    assert tape.read_bytes() == shipped and tape.stat().st_mtime_ns == stamp


def test_with_no_gateway_configured_an_edited_prompt_goes_to_the_built_in_emulator(workshop, tmp_path):
    env = {**opening_environment(), **kernel_environment("unused", tmp_path / "config.toml"),
           "JPY_SESSION_NAME": str(workshop)}
    del env["JUPYTER_LLM_BASE_URL"]
    tape = workshop.with_suffix("").with_suffix(".llm.jsonl")
    shipped = tape.read_bytes()
    kernel = Kernel(env)
    try:
        kernel.run("%load_ext jupyter_llm")
        edited = kernel.run("%%llm -m qwen3-32b --no-think\nName one river.")
        assert edited.error is None, edited.error
        said = edited.notes()
        assert "sent live to the built-in emulator" in said and "no gateway configured" in said
        assert "not recorded (fallback mode)" in said and kernel_value(kernel, "_llm.content")
    finally:
        kernel.shutdown()
    assert tape.read_bytes() == shipped


def test_a_batch_in_fallback_mode_says_in_its_own_cell_that_new_rows_went_live(emulator, tmp_path):
    # The batch runs on its own event-loop thread: its note must still land in the cell that ran it.
    kernel = Kernel(kernel_environment(emulator.url, tmp_path / "config.toml"))
    tape = tmp_path / "batch.llm.jsonl"
    batch = "pd.DataFrame({{'q': {rows}}}).llm.map('Say {{q}}', model='qwen3-32b', think=False)"
    try:
        kernel.run("%load_ext jupyter_llm\nimport jupyter_llm, pandas as pd")
        kernel.run(f"with jupyter_llm.cassette({str(tape)!r}, mode='record'):\n"
                   f"    {batch.format(rows=['a', 'b'])}")
        emulator.reset()
        grown = kernel.run(f"with jupyter_llm.cassette({str(tape)!r}, mode='fallback'):\n"
                           f"    answers = {batch.format(rows=['a', 'b', 'c', 'd'])}")
        assert grown.error is None, grown.error
        assert "has no answer for this chat request: sent live, not recorded (fallback mode)" in grown.notes()
        assert kernel_value(kernel, "int(answers.notna().sum())") == 4
        asked = [r["body"]["messages"][-1]["content"] for r in emulator.requests if r["method"] == "POST"]
        assert sorted(asked) == ["Say c", "Say d"], "the recorded rows were replayed, the new ones sent"
        assert kernel.run("1 + 1").notes() == "", "no note strays into the next cell"
    finally:
        kernel.shutdown()
