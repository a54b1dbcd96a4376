"""%%llm --tools in a real kernel: cards in the outputs, and --confirm answered through stdin."""
from __future__ import annotations

import queue

from support import TEST_KEY

SETUP = '''
%load_ext jupyter_llm
from typing import Literal
import jupyter_llm

@jupyter_llm.tool
def get_current_weather(location: str, unit: Literal["celsius", "fahrenheit"] = "celsius") -> dict:
    """Get the current weather in a given location.

    location: The city and state, e.g. San Francisco, CA
    """
    return {"location": location, "temperature": 22, "unit": unit}
'''

CELL = "%%llm -m qwen3-32b --no-think --tools get_current_weather --confirm\nWhat is the weather in Paris?"


def test_confirm_through_stdin_and_a_card_per_call(kernel):
    assert kernel.run(SETUP).error is None
    client = kernel.client
    msg_id = client.execute(CELL, allow_stdin=True)
    prompt = client.get_stdin_msg(timeout=60)
    assert "get_current_weather" in prompt["content"]["prompt"]
    client.input("y")
    outputs = []
    while True:
        try:
            msg = client.get_iopub_msg(timeout=60)
        except queue.Empty:
            raise AssertionError("cell did not finish")
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        outputs.append(msg)
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            break
    bundles = [m["content"]["data"] for m in outputs if m["msg_type"] == "display_data"]
    cards = [b for b in bundles if "⚙ get_current_weather" in b.get("text/plain", "")]
    assert len(cards) == 1
    assert cards[0]["text/html"].startswith("<details style=") and "done" in cards[0]["text/plain"]
    assert '"Paris"' in cards[0]["text/html"] or "Paris" in cards[0]["text/html"]
    assert not [m for m in outputs if m["msg_type"] == "error"]
    assert TEST_KEY not in str(outputs)
    after = kernel.run("print(len(_llm.tool_results), _llm.tool_results[0].error)")
    assert "1 None" in after.text()


def test_the_live_view_shows_a_running_card_until_the_tool_returns(kernel):
    assert kernel.run(SETUP).error is None
    result = kernel.run("%%llm -m qwen3-32b --no-think --tools get_current_weather\nWhat is the weather in Paris?")
    assert result.error is None
    sent = result.text()  # in order, the live view's operations inflated
    running = sent.find("get_current_weather · running…")
    done = sent.find("get_current_weather · done · ")
    # The open card reaches the front end before the tool's result does.
    assert 0 <= running < done
    cards = [m["content"]["data"] for m in result.outputs if m["msg_type"] == "display_data"
             and "⚙ get_current_weather" in m["content"]["data"].get("text/plain", "")]
    assert len(cards) == 1 and cards[0]["text/html"].startswith("<details style=")
