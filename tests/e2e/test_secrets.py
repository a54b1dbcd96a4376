"""The API key never leaks: run the fault matrix and the quickstart with a recognisable key,
then scan everything they produced for it.

Scanned: str, repr and formatted tracebacks of every error and Reply, the session and its
views, stderr, every log record at DEBUG (httpx and the openai SDK included), the emulator's
request log; in a kernel run by nbclient, every iopub message, a verbose traceback that
prints local variables, and the saved .ipynb (outputs and widget state).
"""
from __future__ import annotations

import json
import logging
import os
import traceback
from pathlib import Path

import pytest
from fault_matrix import MODEL, ROWS
from support import TEST_KEY, closed_port

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core import call_log, store
from jupyter_llm.core.chat import send
from jupyter_llm.core.client import Client, http_transport
from jupyter_llm.core.session import catalog

pytestmark = pytest.mark.timeout(240)

ROOT = Path(__file__).resolve().parents[2]
MIDDLE = "JLLM-0123456789"  # the key's middle part: catches a key cut or re-wrapped


def assert_clean(where: str, text: str) -> None:
    assert TEST_KEY not in text and MIDDLE not in text, f"the key leaked into {where}"


def everything_about(obj) -> str:
    """str, repr and (for an exception) the formatted traceback with its chain."""
    parts = [str(obj), repr(obj)]
    if isinstance(obj, BaseException):
        parts += traceback.format_exception(obj)
        parts += [repr(getattr(obj, "reply", None)), repr(getattr(getattr(obj, "reply", None), "messages", None))]
    return "\n".join(parts)


@pytest.fixture
def debug_log():
    """Every log record of every library at DEBUG, formatted with its arguments."""
    records: list[str] = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(self.format(record))

    handler = Keep(level=logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root, level = logging.getLogger(), logging.getLogger().level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield records
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.parametrize("auth", ["bearer", "raw"])
def test_fault_matrix_through_ask_leaks_nothing(emulator, debug_log, capsys, auth):
    s = jupyter_llm.session
    s.reload()
    s.base_url, s.api_key, s.auth = emulator.url, TEST_KEY, auth
    catalog().refresh()
    emulator.reset()
    seen = []
    cases = {name: (row.emulate, {**row.settings, "max_retries": min(row.settings.get("max_retries", 0), 1)})
             for name, row in ROWS.items()}
    cases |= {"answer": ("", {}), "malformed": ("fault=malformed", {}), "huge": ("fault=huge", {}),
              "429 then answer": ("fault=429; fault_times=1; retry_after=0.1", {"max_retries": 1})}
    try:
        for name, (emulate, settings) in cases.items():
            s.extra_headers = {"X-Emulator": emulate} if emulate else {}
            for setting, value in {"timeout": 120.0, "max_retries": 0, **settings}.items():
                setattr(s, setting, value)
            try:
                seen.append(send([{"role": "user", "content": f"{name}: hi"}], model=MODEL, on_event=seen.append))
            except errors.LLMError as exc:
                seen.append(exc)
        s.base_url, s.max_retries = f"http://127.0.0.1:{closed_port()}/v1", 0
        with pytest.raises(errors.ConnectionError) as refused:
            jupyter_llm.ask("hi", model=MODEL, display=False)
        seen.append(refused.value)
        assert sum(isinstance(x, errors.LLMError) for x in seen) == len(ROWS) + 1
        for item in seen:
            assert_clean(f"{type(item).__name__}", everything_about(item))
        for view in (repr(s), str(s.as_dict()), json.dumps(s._repr_mimebundle_()), repr(s.secrets()),
                     repr(s.endpoint(MODEL)), repr(Client(s)), repr(Client(s).endpoint(MODEL)),
                     repr(http_transport())):
            assert_clean("a view of the session", view)
        assert_clean("stdout/stderr", "".join(capsys.readouterr()))
        assert len(debug_log) > 50, "DEBUG logging of httpx and the SDK was captured"
        assert_clean("a DEBUG log line", "\n".join(debug_log))
        assert_clean("the emulator's request log", json.dumps(emulator.requests, ensure_ascii=False))
        assert {r["auth"] for r in emulator.requests} == {auth}, "the key was sent, in the form asked"
        call_log.flush()
        assert len(call_log.query()) >= len(ROWS), "the matrix was logged"
        for database in store.data_dir().glob("*.db*"):
            assert_clean(f"the database {database.name}", database.read_bytes().decode("utf-8", "replace"))
    finally:
        s.reload()
        catalog().refresh()


def test_notebook_run_and_saved_file_leak_nothing(emulator, tmp_path):
    """quickstart.ipynb plus the fault matrix as cells, run by nbclient with the key in the
    environment, saved; then every iopub message and the saved file are scanned."""
    import nbformat
    from nbclient import NotebookClient

    class Recording(NotebookClient):
        def process_message(self, msg, cell, cell_index):
            seen.append(msg)
            return super().process_message(msg, cell, cell_index)

    seen: list[dict] = []
    nb = nbformat.read(ROOT / "notebooks" / "quickstart.ipynb", as_version=4)
    cell = nbformat.v4.new_code_cell
    nb.cells.append(cell("import logging, sys\n"
                         "logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, force=True,\n"
                         "                    format='%(name)s %(levelname)s %(message)s')"))
    for name, row in ROWS.items():
        settings = {"timeout": 120.0, "max_retries": 0, **row.settings}
        setup = [f"jupyter_llm.session.extra_headers = {{'X-Emulator': {row.emulate!r}}}"]
        setup += [f"jupyter_llm.session.{k} = {v!r}" for k, v in settings.items()]
        nb.cells += [cell("\n".join(setup)), cell(f"%%llm -m {MODEL}\n{name}: write a few lines.")]
    nb.cells += [
        cell("jupyter_llm.session.extra_headers = {}\n%llm_config"),
        cell("jupyter_llm.session"),
        cell("print(repr(jupyter_llm.session), jupyter_llm.session.endpoint('qwen3-32b'), _llm, _llm.messages)"),
        cell("import traceback\njupyter_llm.session.extra_headers = {'X-Emulator': 'fault=401'}\n"
             "try:\n    jupyter_llm.ask('hi', model='qwen3-32b', display=False)\n"
             "except jupyter_llm.errors.LLMError:\n    traceback.print_exc()"),
        # A traceback that prints every frame's local variables, without the one-line handler.
        cell("import jupyter_llm.magics\njupyter_llm.magics.unregister(get_ipython())\n%xmode Verbose"),
        cell("jupyter_llm.ask('hi', model='qwen3-32b', display=False)"),
        cell(f"jupyter_llm.session.base_url = 'http://127.0.0.1:{closed_port()}/v1'\n"
             "jupyter_llm.ask('hi', model='qwen3-32b', display=False)"),
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith(("JUPYTER_LLM_", "OPENAI_"))}
    env.update(JUPYTER_LLM_BASE_URL=emulator.url, JUPYTER_LLM_API_KEY=TEST_KEY,
               JUPYTER_LLM_CONFIG_FILE=str(tmp_path / "config.toml"), PYTHONUNBUFFERED="1")
    work = tmp_path / "run"
    work.mkdir()
    client = Recording(nb, timeout=120, kernel_name="python3", allow_errors=True,
                       resources={"metadata": {"path": str(work)}})
    emulator.reset()
    client.execute(env=env)
    saved = work / "quickstart-run.ipynb"
    nbformat.write(nb, saved)

    errors_shown = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", ())
                    if o.output_type == "error"]
    assert {o.ename for o in errors_shown} >= {row.error.__name__ for row in ROWS.values()}
    verbose = errors_shown[-2]
    assert verbose.ename == "AuthenticationError" and len(verbose.traceback) > 3, "the verbose traceback ran"
    assert any("Building HTTP request" in json.dumps(m["content"]) for m in seen), "DEBUG logs were captured"
    assert nb.metadata.get("widgets"), "widget state was saved"

    assert_clean("an iopub message", "\n".join(json.dumps(m["content"], ensure_ascii=False) for m in seen))
    assert_clean("the saved notebook", saved.read_text(encoding="utf-8"))
    assert_clean("the emulator's request log", json.dumps(emulator.requests, ensure_ascii=False))
    assert "hidden>" in "".join(verbose.traceback), "it printed the local holding the keys, masked"
