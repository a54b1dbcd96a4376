"""The tool loop through ask(tools=...) against the emulator over real HTTP: calls, errors, limits, confirmation."""
from __future__ import annotations

import asyncio
from typing import Literal

import pytest

import jupyter_llm
from jupyter_llm.core.toolloop import format_result
from support import TEST_KEY

MODEL = "qwen3-32b"


def weather(location: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
    """Get the current weather in a given location.

    location: The city and state, e.g. San Francisco, CA
    """
    return {"location": location, "temperature": 22, "unit": unit}


def ask(prompt, emulate=None, **kw):
    if emulate:
        jupyter_llm.session.extra_headers = {"X-Emulator": emulate}
    return jupyter_llm.ask(prompt, model=MODEL, display=False, **kw)


def chats(emulator):
    return [r["body"] for r in emulator.requests if r["path"].endswith("/chat/completions")]


def test_one_call_runs_and_the_model_answers_from_it(llm, emulator):
    reply = ask("What is the weather in Paris?", tools=[weather])
    assert [r.call.name for r in reply.tool_results] == ["weather"]
    result = reply.tool_results[0]
    assert result.error is None and '"location": "Paris"' in result.content
    assert reply.finish_reason == "stop" and "weather" in reply.content and "Paris" in reply.content
    roles = [m["role"] for m in reply.messages]
    assert roles == ["user", "assistant", "tool", "assistant"]
    bodies = chats(emulator)
    assert len(bodies) == 2 and bodies[0]["tools"][0]["function"]["name"] == "weather"
    assert bodies[1]["messages"][-1] == {"role": "tool", "tool_call_id": result.call.id, "name": "weather",
                                         "content": result.content}
    assert TEST_KEY not in repr(reply) and len(repr(reply)) < 200


@pytest.mark.parametrize("shape", ["vllm", "sglang", "interleaved"])
def test_two_calls_in_one_turn_in_every_fragment_shape(llm, shape):
    reply = ask("What is the weather in Paris and in Tokyo?", emulate=f"tools={shape}; calls=2", tools=[weather])
    assert len(reply.tool_results) == 2
    assert {r.value["location"] for r in reply.tool_results} == {"Paris", "Tokyo"}
    assert all(r.error is None for r in reply.tool_results)
    assert reply.messages[-1]["role"] == "assistant" and reply.finish_reason == "stop"


@pytest.mark.parametrize("shape", ["vllm", "sglang"])
def test_bad_arguments_go_back_to_the_model(llm, emulator, shape):
    ran = []

    def probe(location: str) -> str:
        ran.append(location)
        return "sunny"

    reply = ask("What is the weather in Paris?", emulate=f"tools={shape}; calls=2; bad_args=1", tools=[probe])
    first, second = reply.tool_results
    assert first.error and "not valid JSON" in first.error and first.content.startswith("Error:")
    # The broken call is never run; the well-formed one is.
    assert second.error is None and len(ran) == 1
    assert chats(emulator)[-1]["messages"][-2]["content"].startswith("Error:")
    assert reply.finish_reason == "stop"


def test_unknown_tool_name_is_fed_back(llm, emulator):
    from jupyter_llm.core.reply import ToolCall
    from jupyter_llm.core.toolloop import run_calls
    from jupyter_llm.core.tools import make_tool

    [result] = run_calls([ToolCall("c1", "nope", "{}")], [make_tool(weather)])
    assert "unknown tool 'nope'" in result.error and "weather" in result.error


def test_exception_inside_a_tool_is_fed_back_not_raised(llm, emulator):
    def broken(location: str) -> str:
        raise RuntimeError("database is down")

    reply = ask("What is the weather in Paris?", tools=[broken])
    [result] = reply.tool_results
    assert result.error == "RuntimeError: database is down"
    assert "database is down" in reply.content
    assert reply.finish_reason == "stop"


def test_round_limit_stops_the_loop(llm, emulator, capsys):
    reply = ask("What is the weather in Paris?", tools=[weather], max_tool_rounds=0)
    assert reply.tool_results == [] and reply.finish_reason == "tool_calls"
    assert len(chats(emulator)) == 1
    assert "max_tool_rounds" in capsys.readouterr().err


def test_rounds_chain_until_the_model_answers(llm, emulator):
    reply = ask("What is the weather in Paris?", emulate="tool_rounds=3", tools=[weather])
    assert [r.round for r in reply.tool_results] == [0, 1, 2]
    assert [m["role"] for m in reply.messages] == ["user"] + ["assistant", "tool"] * 3 + ["assistant"]
    assert len(chats(emulator)) == 4 and reply.finish_reason == "stop"
    # Each round's request carries every earlier call and result.
    assert [len(body["messages"]) for body in chats(emulator)] == [1, 3, 5, 7]


def test_round_limit_stops_a_chain_of_calls(llm, emulator, capsys):
    reply = ask("What is the weather in Paris?", emulate="tool_rounds=5", tools=[weather], max_tool_rounds=2)
    assert [r.round for r in reply.tool_results] == [0, 1]
    assert reply.finish_reason == "tool_calls" and len(chats(emulator)) == 3
    assert "Stopped after 2 tool round(s)" in capsys.readouterr().err


def test_a_broken_call_is_corrected_in_the_next_round(llm, emulator):
    ran = []

    def probe(location: str) -> str:
        ran.append(location)
        return "sunny"

    reply = ask("What is the weather in Paris?", emulate="bad_args=1; tool_rounds=2", tools=[probe])
    first, second = reply.tool_results
    assert first.error and "not valid JSON" in first.error and first.round == 0
    assert second.error is None and second.round == 1 and ran == ["Paris"]
    assert reply.finish_reason == "stop"


def test_each_call_reports_running_then_how_it_went(llm):
    import threading

    from jupyter_llm.core.events import Finished, ToolStatus, UsageReport

    def weather_or_fail(location: str) -> str:
        if location == "Tokyo":
            raise LookupError("no station in Tokyo")
        return "sunny"

    seen = []
    ask("What is the weather in Paris and in Tokyo?", emulate="calls=2", tools=[weather_or_fail],
        on_event=lambda e: seen.append((e, threading.get_ident())))
    assert {thread for _, thread in seen} == {threading.get_ident()}
    events = [e for e, _ in seen]
    statuses = [e for e in events if isinstance(e, ToolStatus)]
    # Statuses come once the model's turn is over, before the next request streams.
    assert isinstance(events[events.index(statuses[0]) - 1], (Finished, UsageReport))
    assert len(statuses) == 4
    assert [(s.index, s.status) for s in statuses[:2]] == [(0, "running"), (1, "running")]
    outcomes = {s.index: s for s in statuses[2:]}
    assert outcomes[0].status == "done" and outcomes[0].result == "sunny"
    assert outcomes[1].status == "failed" and "no station in Tokyo" in outcomes[1].result
    assert all(s.seconds is not None and s.seconds >= 0 for s in outcomes.values())


def test_session_round_limit_is_the_default(llm, emulator):
    llm.max_tool_rounds = 0
    reply = ask("What is the weather in Paris?", tools=[weather])
    assert reply.finish_reason == "tool_calls" and len(chats(emulator)) == 1


def test_async_tool_is_awaited(llm):
    async def slow_weather(location: str) -> dict:
        await asyncio.sleep(0.01)
        return {"location": location, "sky": "clear"}

    reply = ask("What is the weather in Paris?", tools=[slow_weather])
    assert reply.tool_results[0].value == {"location": "Paris", "sky": "clear"}


def test_async_tool_inside_a_running_loop(llm):
    async def slow_weather(location: str) -> str:
        await asyncio.sleep(0)
        return "clear"

    async def main():
        return ask("What is the weather in Paris?", tools=[slow_weather])

    assert asyncio.run(main()).tool_results[0].content == "clear"


def test_confirmation_declined_goes_back_as_declined(llm, emulator):
    ran = []

    def launch(target: str) -> str:
        ran.append(target)
        return "launched"

    asked = []
    reply = ask("Launch it", tools=[launch], confirm=lambda call: asked.append(call.name) or False)
    assert asked == ["launch"] and ran == []
    assert reply.tool_results[0].error == "the user declined this call"


def test_confirmation_accepted_runs_the_call(llm):
    reply = ask("What is the weather in Paris?", tools=[weather], confirm=lambda call: True)
    assert reply.tool_results[0].error is None


def test_tool_marked_confirm_always_asks(llm):
    tool = jupyter_llm.tool(weather, name="careful_weather", confirm=True)
    asked = []
    ask("What is the weather in Paris?", tools=[tool], confirm=lambda call: asked.append(call) or True)
    assert len(asked) == 1


def test_tools_by_name_and_all(llm):
    jupyter_llm.tool(weather, name="named_weather")
    assert ask("What is the weather in Paris?", tools=["named_weather"]).tool_results[0].call.name == "named_weather"
    # "all" includes tools marked confirm=True by other tests: answer for the user.
    assert ask("What is the weather in Paris?", tools="all", confirm=lambda call: True).tool_results


def test_results_are_formatted():
    import pandas as pd

    class Custom:
        def _repr_llm_(self):
            return "custom view"

    assert format_result("plain") == "plain"
    assert format_result({"a": 1}) == '{"a": 1}'
    assert format_result(Custom()) == "custom view"
    frame = pd.DataFrame({"x": range(100)})
    text = format_result(frame)
    assert "80 more rows not shown" in text and text.count("\n") < 30
    long = format_result("x" * 20000)
    assert len(long) < 9000 and "truncated" in long
