"""ask() against the emulator over real HTTP, through the real openai SDK: every chat behaviour."""
from __future__ import annotations

import pytest

from support import TEST_KEY

import jupyter_llm
from jupyter_llm import errors
from jupyter_llm.core.chat import send


def ask(prompt="What is 2+2?", emulate: str | None = None, **kw):
    if emulate:
        jupyter_llm.session.extra_headers = {"X-Emulator": emulate}
    return jupyter_llm.ask(prompt, display=False, **kw)


def last_body(emulator):
    return [r for r in emulator.requests if r["path"].endswith("/chat/completions")][-1]["body"]


@pytest.mark.parametrize("mode", ["reasoning", "reasoning_content", "sglang", "inline", "inline-open"])
def test_reasoning_arrives_separately_in_every_wire_form(llm, mode):
    reply = ask(model="qwq-32b", emulate=f"reasoning={mode}")
    assert reply.reasoning.strip() and reply.content.strip()
    assert "think>" not in reply.content and "think>" not in reply.reasoning
    assert reply.finish_reason == "stop" and reply.usage.completion_tokens > 0


def test_same_text_whatever_the_wire_form(llm):
    forms = {m: ask(model="qwq-32b", emulate=f"reasoning={m}") for m in ("reasoning", "sglang", "inline-open")}
    assert len({(r.reasoning.strip(), r.content.strip()) for r in forms.values()}) == 1


def test_model_without_reasoning_gives_only_an_answer(llm):
    reply = ask(model="qwen72b-awq")
    assert reply.reasoning == "" and reply.content


def test_thinking_switch_off_on_qwen3(llm, emulator):
    for model in ("qwen3-32b", "qwen3-30b-a3b"):
        reply = ask(model=model, think=False)
        assert reply.reasoning == "" and reply.content, model
        assert last_body(emulator)["chat_template_kwargs"] == {"enable_thinking": False}
    assert ask(model="qwen3-32b").reasoning


def test_soft_switch_for_gateways_that_drop_the_field(llm, emulator):
    llm.soft_think_switch = True
    reply = ask(model="qwen3-32b", think=False)
    assert last_body(emulator)["messages"][-1]["content"].endswith("/no_think")
    assert reply.reasoning == ""


def test_think_on_a_model_that_cannot_is_refused_before_sending(llm, emulator):
    with pytest.raises(errors.CapabilityError):
        ask(model="qwen72b-int8", think=True)
    assert not [r for r in emulator.requests if r["path"].endswith("/chat/completions")]


def test_every_request_streams_with_usage(llm, emulator):
    ask(model="qwen3-32b")
    body = last_body(emulator)
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


@pytest.mark.parametrize("shape", ["vllm", "sglang", "interleaved"])
def test_tool_calls_assemble_in_every_fragment_shape(llm, shape):
    tools = [
        {"type": "function", "function": {"name": "get_current_weather", "description": "weather",
         "parameters": {"type": "object", "properties": {"location": {"type": "string"},
                        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
                        "required": ["location", "unit"]}}},
        {"type": "function", "function": {"name": "get_time", "description": "time",
         "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}},
    ]
    reply = ask("What is the weather in Paris?", model="qwen3-32b", tools=tools, think=False,
                emulate=f"tools={shape}; calls=2")
    assert reply.finish_reason == "tool_calls"
    assert [c.name for c in reply.tool_calls] == ["get_current_weather", "get_time"]
    weather = reply.tool_calls[0].arguments
    assert weather["unit"] == "celsius" and weather["location"] == "Paris"
    assert all(c.id and c.arguments_error is None for c in reply.tool_calls)


def test_separate_finish_chunk_and_unknown_finish_reason(llm):
    assert ask(model="qwen72b-awq", emulate="finish=separate").finish_reason == "stop"
    assert ask(model="qwen72b-awq", emulate="finish_reason=repetition").finish_reason == "repetition"


def test_max_tokens_gives_length(llm):
    reply = ask(model="qwen72b-awq", max_tokens=5)
    assert reply.finish_reason == "length" and reply.usage.completion_tokens == 5


def test_cjk_model_name_works(llm):
    assert ask(model="qwen32b-awq(试用)").model == "qwen32b-awq(试用)"


@pytest.mark.parametrize("auth", ["bearer", "raw"])
def test_both_auth_forms_reach_the_gateway(llm, emulator, auth):
    llm.auth = auth
    ask(model="qwen72b-awq")
    assert emulator.requests[-1]["auth"] == auth


def test_stream_cut_without_finish_is_incomplete_and_keeps_the_text(llm):
    with pytest.raises(errors.IncompleteReply) as caught:
        ask(model="qwen72b-awq", emulate="fault=cut; cut_after=8")
    partial = caught.value.reply
    assert partial.content and not partial.complete and "re-run" in str(caught.value)


def test_error_chunk_mid_stream_keeps_the_text(llm):
    with pytest.raises(errors.GatewayError) as caught:
        ask(model="qwen72b-awq", emulate="fault=error-chunk; cut_after=6")
    assert caught.value.reply.content


def test_unknown_model_lists_the_models_that_exist(llm, emulator):
    with pytest.raises(errors.ModelNotFound) as caught:
        ask(model="qwen3-23b")
    assert "qwen3-32b" in caught.value.available and "Did you mean" in str(caught.value)
    assert sum(r["path"].endswith("/chat/completions") for r in emulator.requests) == 1, "no retry of a refusal"


def test_key_never_in_errors(llm):
    for fault in ("401", "403", "500", "error-chunk"):
        with pytest.raises(errors.LLMError) as caught:
            ask(model="qwen72b-awq", emulate=f"fault={fault}")
        text = str(caught.value) + repr(caught.value) + repr(caught.value.reply)
        assert TEST_KEY not in text and "JLLM-0123456789" not in text


def test_retry_after_429_then_success_with_a_notice(llm):
    seen = []
    jupyter_llm.session.extra_headers = {"X-Emulator": "fault=429; fault_times=1; retry_after=0.2"}
    reply = send([{"role": "user", "content": "hi"}], model="qwen72b-awq", on_event=seen.append)
    assert reply.complete
    assert any("429" in getattr(e, "text", "") and "retrying in 0.2 s" in e.text for e in seen)


def test_default_model_comes_from_the_gateway(llm, capsys):
    llm.model = None
    reply = ask()
    assert reply.model == llm.model and "using" in capsys.readouterr().err


def test_logprobs_come_back_as_a_dataframe_of_the_answers_tokens(llm):
    reply = jupyter_llm.ask("Is 7 prime?", model="qwen72b-awq", display=False, logprobs=True, top_logprobs=3)
    frame = reply.logprobs
    assert "".join(frame.token) == reply.content
    assert list(frame.columns) == ["token", "logprob", "probability", "top"]
    assert ((frame.probability > 0) & (frame.probability <= 1)).all() and (frame.top.map(len) == 3).all()
    assert jupyter_llm.ask("Is 7 prime?", model="qwen72b-awq", display=False).logprobs is None


def test_several_choices_come_back_apart_not_garbled(llm):
    reply = jupyter_llm.ask("Name a river.", model="qwen72b-awq", display=False, n=3, temperature=0.8)
    assert len(reply.choices) == 3 and reply.choices[0] is reply
    assert len({c.content for c in reply.choices}) == 3 and all(c.complete for c in reply.choices)
    assert "3 choices (.choices)" in reply.summary()


def test_a_stop_string_ends_the_answer_and_is_named(llm):
    whole = jupyter_llm.ask("Name a river.", model="qwen72b-awq", display=False).content
    word = whole.split()[4]
    reply = jupyter_llm.ask("Name a river.", model="qwen72b-awq", display=False, stop=[word])
    assert reply.content == whole[:whole.index(word)].rstrip() and reply.stop_reason == word
