"""%llm_usage, the df.llm accessor and an interrupted map() in a real kernel against the emulator."""
from __future__ import annotations

import threading
import time

SETUP = """
%load_ext jupyter_llm
import sys
print("pandas loaded:", "pandas" in sys.modules)
"""


def chats(emulator) -> int:
    return len([r for r in emulator.requests if r["path"] == "/v1/chat/completions"])


def test_the_accessor_appears_once_pandas_is_imported_and_usage_counts_the_batch(kernel, emulator):
    assert "pandas loaded: False" in kernel.run(SETUP).text()
    assert kernel.run("import pandas as pd").error is None
    result = kernel.run('df = pd.DataFrame({"t": ["red mug", "blue cup"]}, index=[4, 2])\n'
                        'out = df.llm.map("Colour of: {t}", model="qwen3-32b", think=False, '
                        'schema={"colour": ["red", "blue"]})\nprint(list(out.index), list(out.columns))')
    assert result.error is None, result.error
    assert "[4, 2] ['colour']" in result.text()
    usage = kernel.run("%llm_usage --batch")
    assert usage.error is None
    table = [m for m in usage.outputs if m["msg_type"] == "execute_result"][0]["content"]["data"]["text/plain"]
    assert "qwen3-32b" in table and "requests" in table and "map: 2 rows: 2 answered." in usage.text()
    session = kernel.run("%llm_usage")
    assert "total" in session.text()


def test_interrupting_a_batch_returns_the_finished_rows_and_a_rerun_sends_the_rest(kernel, emulator):
    kernel.run(SETUP + "import jupyter_llm, pandas as pd\n"
               "jupyter_llm.session.extra_headers = {'X-Emulator': 'latency=0.2'}\n"
               "texts = [f'review {i}' for i in range(40)]")
    emulator.reset()

    def interrupt():
        deadline = time.monotonic() + 30
        while chats(emulator) < 6 and time.monotonic() < deadline:
            time.sleep(0.02)
        kernel.interrupt()

    threading.Thread(target=interrupt, daemon=True).start()
    result = kernel.run("out = jupyter_llm.map(texts, 'Classify: {text}', model='qwen3-32b', think=False, "
                        "concurrency=2)\nprint('kept', out.notna().sum())", timeout=60)
    assert result.error is None, result.error
    assert "not done (interrupted): re-run the same call to send only those" in result.text()
    kept = int(result.text().split("kept ")[1].split("\\n")[0])
    assert 4 <= kept < 40
    time.sleep(0.6)  # rows already on the wire finish and are cached
    sent = chats(emulator)
    again = kernel.run("out = jupyter_llm.map(texts, 'Classify: {text}', model='qwen3-32b', think=False, "
                       "concurrency=4)\nprint('all', out.notna().all())", timeout=60)
    assert "all True" in again.text()
    assert chats(emulator) - sent == 40 - sent
