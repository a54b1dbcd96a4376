"""How jupyter-llm errors show in a kernel: one line, or with JUPYTER_LLM_DEBUG=1 the whole
traceback, and in both cases no key, even under %xmode Verbose."""
from __future__ import annotations

import pytest
from support import MIDDLE, TEST_KEY, Kernel

CELL = "%%llm -m qwen72b-awq --max-tokens 5\nhi"


def _error_text(result) -> str:
    return "\n".join(result.error["traceback"])


@pytest.fixture
def failing(kernel_env):
    """A kernel whose gateway refuses every chat request with a 500 that never ends."""
    def make(**env):
        k = Kernel({**kernel_env, **env})
        k.run("%load_ext jupyter_llm\nimport jupyter_llm\njupyter_llm.session.max_retries = 0\n"
              "jupyter_llm.session.extra_headers = {'X-Emulator': 'fault=500'}")
        return k
    kernels = []
    yield lambda **env: kernels.append(make(**env)) or kernels[-1]
    for k in kernels:
        k.shutdown()


def test_an_error_is_one_line_by_default(failing):
    result = failing().run(CELL)
    assert result.error["ename"] == "GatewayError"
    assert len(result.error["traceback"]) == 1 and "try again later" in _error_text(result)


def test_the_debug_switch_shows_the_whole_traceback_without_the_key(failing):
    k = failing(JUPYTER_LLM_DEBUG="1")
    k.run("%xmode Verbose")
    result = k.run(CELL)
    text = _error_text(result)
    assert result.error["ename"] == "GatewayError" and len(result.error["traceback"]) > 3
    assert "jupyter_llm/core/http.py" in text and "Cause" in text, "our frames and the cleaned cause are shown"
    assert TEST_KEY not in text and MIDDLE not in text
