"""One chat request, built once: messages, model, what the catalogue says of it, thinking, the
body's other fields, and the tools the loop may run.

:func:`build` applies the session's defaults and refuses, before anything is sent, what the
server would refuse after the prompt went over the wire.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from .. import errors
from .catalog import Catalog, ModelInfo
from .images import check_vision
from .kernel import user_namespace
from .messages import clean
from .notes import note
from .notgiven import NOT_GIVEN, given
from .tokens import context_warning
from .tools import Tool, resolve

#: Body fields whose default comes from the session; None given per call means "send none".
_SAMPLING = ("temperature", "max_tokens")


@dataclass
class ChatRequest:
    """What one chat asks for; :meth:`body` is the wire body of one round.

    Example::

        request = build(session, catalog, [{"role": "user", "content": "hi"}], model="qwen3-32b", think=False)
        request.body(request.messages)[0]["chat_template_kwargs"]   # {'enable_thinking': False}
    """

    messages: list[dict]
    model: str
    info: ModelInfo
    think: bool | None = None
    #: Other body fields: temperature, max_tokens, response_format, raw tool specs, ...
    params: dict = field(default_factory=dict)
    #: Python tools the client runs when the model calls them (empty: a single round).
    tools: list[Tool] = field(default_factory=list)
    max_tool_rounds: int = 8
    #: Ask before each tool call: True, False, or a callable taking the ToolCall.
    confirm: object = False
    soft_think_switch: bool = False
    #: What the call log files this request under: a conversation's name, a batch's id.
    conversation: str | None = None
    batch: str | None = None
    #: The notebook and cell the call log files this request under (:func:`call_log.where`), when
    #: the caller took them already: a batch takes them once, on the thread of the cell that ran it.
    origin: dict | None = None

    @property
    def opens_thinking(self) -> bool:
        """True when untagged text at the start is reasoning: the model's template opens the
        think block in the prompt, and no thinking switch turned it off."""
        switched_off = self.think is False and self.info.thinking_switch
        return bool(self.info.opens_thinking) and not switched_off

    @property
    def offers_tools(self) -> bool:
        return bool(self.tools) or "tools" in self.params

    def check(self) -> None:
        """Refuse what the server would refuse, and warn when the prompt nears the context."""
        _check_max_tokens(self.params.get("max_tokens"), self.info)
        _check_sampling(self.params)
        check_vision(self.messages, self.info)
        warning = context_warning(self.messages, self.info.context, self.params.get("max_tokens"),
                                  model=self.info.name)
        if warning:
            note(warning)

    def body(self, messages: list[dict]) -> tuple[dict, str | None]:
        """The body of one round that sends ``messages``, and a notice for the user, if any."""
        body = {"model": self.model, **self.params}
        if self.tools:
            body["tools"] = [t.schema for t in self.tools]
        body["messages"], cleaned = clean(messages)
        if cleaned:
            note(cleaned)
        return body, apply_thinking(body, self.info, self.think, soft=self.soft_think_switch)


def build(session, catalog: Catalog, messages: list[dict], *, model: str | None = None,
          think: bool | None = None, tools=None, max_tool_rounds: int | None = None, confirm=None,
          conversation: str | None = None, batch: str | None = None, **params) -> ChatRequest:
    """A :class:`ChatRequest` for ``messages`` with the session's defaults applied.

    ``model`` and ``think`` left as None follow the session; so do ``temperature`` and
    ``max_tokens`` when not passed at all (passing None sends none). ``tools`` are Tool
    objects, functions or registered names; raw OpenAI tool dicts are sent as they are and
    their calls are left to the caller.
    """
    model = model or session.model or _default_model(session, catalog)
    think = session.think if think is None else think
    info = catalog[model]
    for name in _SAMPLING:
        value = given(params.pop(name, NOT_GIVEN), getattr(session, name))
        if value is not None:
            params[name] = value
    request = ChatRequest(messages=messages, model=model, info=info, think=think, params=params,
                          soft_think_switch=session.soft_think_switch, conversation=conversation, batch=batch)
    request.check()
    if tools and all(isinstance(t, dict) for t in tools):
        params["tools"] = tools
    elif tools:
        request.tools = resolve(tools, user_namespace())
        if info.tools is False:
            raise errors.CapabilityError(
                f"{model} cannot call functions (no function calling on the gateway); pick a model with "
                f"tools in %llm_models, e.g. a qwen3-* model.")
        request.max_tool_rounds = session.max_tool_rounds if max_tool_rounds is None else max_tool_rounds
        request.confirm = session.confirm_tools if confirm is None else confirm
    return request


def _default_model(session, catalog: Catalog) -> str:
    model = catalog.default_model("chat")
    note(f"using {model} (set a default with %llm_config model=NAME)")
    session.model = model
    return model


def _check_sampling(params: dict) -> None:
    # What vLLM refuses with a 400 (sampling_params.py), said before the prompt is sent.
    temperature, top_p, n = params.get("temperature"), params.get("top_p"), params.get("n")
    if temperature is not None and (not _number(temperature) or temperature < 0):
        raise errors.ConfigError(f"temperature must be a number, 0 or more (0 = always the likeliest token), "
                                 f"not {temperature!r}.")
    if top_p is not None and (not _number(top_p) or not 0 < top_p <= 1):
        raise errors.ConfigError(f"top_p must be a number above 0 and at most 1 (1 = no cut), not {top_p!r}.")
    if n is not None and (not isinstance(n, int) or isinstance(n, bool) or n < 1):
        raise errors.ConfigError(f"n must be a whole number of choices, 1 or more, not {n!r}.")


def _number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_max_tokens(max_tokens, info: ModelInfo) -> None:
    # The server would refuse these anyway, after the prompt went over the wire; say why now.
    if max_tokens is None:
        return
    if not isinstance(max_tokens, int) or isinstance(max_tokens, bool) or max_tokens < 1:
        raise errors.ConfigError(f"max_tokens must be a whole number of tokens, 1 or more, not {max_tokens!r}.")
    if not info.context or max_tokens < info.context:
        return
    raise errors.ContextTooLong(
        f"max_tokens={max_tokens:,} leaves no room for the prompt in {info.name}'s context of "
        f"{info.context:,} tokens (prompt and reply share it). Lower it (--max-tokens N, or "
        f"%llm_config max_tokens=none), or use a model with a longer context.",
        limit=info.context,
        requested=max_tokens,
    )


def apply_thinking(body: dict, info: ModelInfo, think: bool | None, *, soft: bool = False) -> str | None:
    """Add the thinking switch to ``body`` for ``think``; returns a notice for the user, if any.

    Qwen3's hard switch is ``chat_template_kwargs.enable_thinking``; gateways that drop
    unknown fields need the soft switch ``/no_think`` (``/think``) in the last user message.
    """
    if think is None:
        return None
    if think and info.thinking is False:
        raise errors.CapabilityError(
            f"{info.name} does not think (no reasoning mode). Use a thinking model such as one "
            f"listed with thinking=True in %llm_models, or drop --think."
        )
    if not info.thinking_switch:
        if not think and info.thinking:
            return f"{info.name} has no thinking switch: it will think anyway."
        return None
    body["chat_template_kwargs"] = {"enable_thinking": bool(think)}
    if soft:
        last = next(m for m in reversed(body["messages"]) if m["role"] == "user")
        if isinstance(last["content"], str):
            last["content"] = f"{last['content'].rstrip()} {'/think' if think else '/no_think'}"
    return None
