"""The model catalogue: families, what the server says, and user overrides."""
from __future__ import annotations

from jupyter_llm.core.catalog import describe


def test_gateway_families():
    assert describe("qwen3-32b").thinking_switch is True
    assert describe("qwq-32b").tools is False and describe("qwq-32b").thinking is True
    assert describe("qwq-32b-128k").context == 131072 and describe("qwq-32b-128k").tools is True
    assert describe("qwen25-vl-7b").vision is True
    assert describe("Qwen3-Embedding-8B").kind == "embedding"
    assert describe("qwen32b-awq(试用)").context == 32768


def test_an_embedding_model_takes_nothing_from_a_chat_family_its_name_matches():
    info = describe("Qwen3-Embedding-8B")
    assert (info.tools, info.thinking, info.thinking_switch, info.structured) == (None, None, None, None)
    assert describe("Qwen3-Reranker-8B").kind == "rerank" and describe("Qwen3-Reranker-8B").tools is None


def test_unknown_model_has_unknown_capabilities():
    info = describe("brand-new-model")
    assert (info.kind, info.context, info.tools, info.thinking) == ("chat", None, None, None)


def test_server_context_and_overrides_win():
    info = describe("qwen3-32b", server={"id": "qwen3-32b", "max_model_len": 40960},
                    overrides={"context": 8192, "tools": False})
    assert (info.context, info.tools, info.served) == (8192, False, True)
    assert info.sources == ("built-in", "server", "config")
    assert describe("qwen3-32b", server={"id": "qwen3-32b", "max_model_len": 40960}).context == 40960


def test_family_from_root_when_the_name_is_an_alias():
    assert describe("my-alias", server={"id": "my-alias", "root": "qwq-32b"}).thinking is True


def test_structured_outputs_come_from_the_family_table_and_overrides():
    assert describe("qwen3-32b").structured is True and describe("qwq-32b-128k").structured is True
    assert describe("qwen72b-awq").structured is None  # unknown: map() asks in the prompt instead
    assert describe("qwen3-32b", overrides={"structured": False}).structured is False


def test_qwen3_releases_that_never_think_or_always_think_are_told_apart():
    for name in ("Qwen3-235B-A22B-Instruct-2507", "qwen3-30b-a3b-instruct-2507", "Qwen3-Coder-480B-A35B-Instruct"):
        info = describe(name)
        assert (info.thinking, info.thinking_switch, info.tools) == (False, False, True), name
    thinking = describe("Qwen3-30B-A3B-Thinking-2507")
    assert (thinking.thinking, thinking.thinking_switch, thinking.opens_thinking) == (True, False, True)
    assert describe("qwen3-32b").thinking_switch is True and describe("qwen3-32b").opens_thinking is False


def test_a_served_models_root_is_matched_by_its_base_name_whatever_its_case():
    info = describe("house-reasoner", server={"id": "house-reasoner", "root": "Qwen/QwQ-32B"})
    assert info.thinking is True and info.opens_thinking is True and info.served


def test_a_lookup_uses_what_the_server_says(llm):
    from jupyter_llm.core.session import catalog
    from jupyter_llm.emulator import start

    with start(max_model_len=True, models={"qwen72b-int8": {"context": 12345}}) as vllm_like:
        llm.base_url = vllm_like.url
        info = catalog()["qwen72b-int8"]
    assert info.served and info.context == 12345 and "server" in info.sources


def test_suggestions_are_really_close_or_none(llm):
    from jupyter_llm.core.session import catalog

    assert catalog().close_matches("QWQ-32B")[0] == "qwq-32b"
    assert catalog().close_matches("gpt-4o") == []
