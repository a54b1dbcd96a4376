"""%llm_embed in a real kernel against the emulator."""
from __future__ import annotations

SETUP = """
%load_ext jupyter_llm
import jupyter_llm.magics.embed
get_ipython().register_magics(jupyter_llm.magics.embed.EmbedMagics)
import pandas as pd
snippets = pd.DataFrame({"body": ["cats purr", "dogs bark", "cats purr"]}, index=[3, 1, 2])
"""


def test_llm_embed_stores_and_shows_the_frame(kernel):
    assert kernel.run(SETUP).error is None
    result = kernel.run('%llm_embed snippets["body"] -o vecs --dimensions 64')
    assert result.error is None, result.error
    shown = [m for m in result.outputs if m["msg_type"] == "execute_result"]
    assert shown and "×64" in shown[0]["content"]["data"]["text/plain"]
    check = kernel.run("import jupyter_llm.data.embeddings as E, numpy as np\n"
                       "m = E.vectors(vecs)\n"
                       "print(m.shape, m.dtype, list(vecs.index), vecs.attrs['dimensions'], "
                       "np.array_equal(m[0], m[2]))")
    assert "(3, 64) float32 [3, 1, 2] 64 True" in check.text()


def test_llm_embed_with_a_column_and_model(kernel):
    kernel.run(SETUP)
    result = kernel.run("%llm_embed snippets -c body -m Qwen3-Embedding-8B -o v2; print(v2.shape)")
    assert result.error is None, result.error
    result = kernel.run("%llm_embed snippets -o v3")
    assert result.error is not None and "column=" in result.text()


def test_llm_embed_usage_errors(kernel):
    kernel.run(SETUP)
    result = kernel.run("%llm_embed no_such_variable")
    assert "UsageError" in result.text() and "could not evaluate" in result.text()
    result = kernel.run("%llm_embed?")
    assert "--dimensions" in str(result.reply.get("payload")) + result.text()
