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
