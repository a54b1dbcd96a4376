"""The doctor: checks, in order, whether this kernel can use the gateway, and says what to do.

Where the settings came from (files, environment, this session), the gateway's URL, the
proxy variables, whether the gateway answers and takes the key (a wrong key, a spent quota
and a key not allowed a model told apart by the gateway's own words, :mod:`.refusals`),
the quota, the models and each route's, one tiny streamed chat (time to first token,
where the reasoning came, whether the thinking switch was honoured), embeddings and
rerank, and the installed versions. Every request goes to the gateway itself, never to a
cassette, and is not counted against the session's budget; each check has a time limit.

Example::

    from jupyter_llm.core import doctor
    report = doctor.run()
    print(report)               # the table; %llm_doctor and `jupyter-llm doctor` show the same
"""
from __future__ import annotations

import threading
import time

from .. import errors
from . import doctor_local
from .catalog import describe
from .client import Client, http_transport
from .doctor_report import Check, Report
from .policy import allows
from .quota import fetch as fetch_quota
from .request import apply_thinking
from .session import current

#: Seconds each request of a check may take.
LIMIT = 5.0
#: The tiny chat: a short question, a short cap.
PROMPT, PROBE_TOKENS = "Reply with the single word: ready.", 24


def run(session=None, *, model: str | None = None, limit: float = LIMIT) -> Report:
    """Run every check against ``session`` (default: this kernel's) and ``model`` (default: the
    session's, else the first the gateway serves); each request may take ``limit`` seconds."""
    start = time.perf_counter()
    if session is None:
        try:
            session = current()
        except errors.ConfigError as exc:
            found = Check("config files", False, "a config file could not be read", str(exc))
            return Report([found], time.perf_counter() - start)
    doctor = _Doctor(session, model, limit)
    doctor.warm_up()
    # The clock starts after the SDK's import: a one-off local cost, not the gateway's.
    start = time.perf_counter()
    checks: list[Check] = []
    for step, requests in doctor.steps():
        checks += _within(step, limit * requests + 1.0)
    return Report([_scrubbed(c, session) for c in checks], time.perf_counter() - start)


def _within(step, seconds: float) -> list[Check]:
    """``step()``'s checks, or a ✗ line when it takes longer than ``seconds``."""
    found: list = []
    started = time.perf_counter()

    def work() -> None:
        try:
            found.extend(step())
        except Exception as exc:  # one check's failure must not cost the rest of the report
            found.append(Check(step.__name__.strip("_").replace("_", " "), False,
                               f"the check itself failed: {type(exc).__name__}", str(exc)))

    # A daemon thread: a request that outlives its limit must not keep the kernel from exiting.
    thread = threading.Thread(target=work, daemon=True, name="jupyter-llm-doctor")
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        name = step.__name__.strip("_").replace("_", " ")
        return [Check(name, False, f"no answer within {seconds:.0f} s",
                      "The gateway is slow or unreachable from here: try again, or ask its admin.",
                      time.perf_counter() - started)]
    return found


def _scrubbed(check: Check, session) -> Check:
    secrets = session.secrets()
    return Check(check.name, check.ok, errors.redact(check.found, secrets), errors.redact(check.todo, secrets),
                 check.seconds)


class _Doctor:
    """The checks of one run, and what earlier checks found that later ones need."""

    def __init__(self, session, model: str | None, limit: float):
        self.session = session
        self.asked_model = model
        self.client = Client(session, timeout=limit, max_retries=0, transport=http_transport())
        self.served: dict[str, dict] | None = None
        self.model: str | None = None

    def warm_up(self) -> None:
        """Import the SDK and open its client now, before any check is timed."""
        try:
            self.client.transport.prepare(self.client.request("models", {}, model=self.session.model))
        except Exception:  # a URL the SDK cannot take: the checks below say what is wrong with it
            pass

    def steps(self):
        """Each check with the number of requests it sends (its time limit grows with them)."""
        return [(self._local, 0), (self._gateway, 1), (self._quota, 2),
                (self._routes, max(1, len(self.session.routes))), (self._chat, 2), (self._embeddings, 1),
                (self._rerank, 1), (doctor_local.setup, 0)]

    def _local(self) -> list[Check]:
        endpoint = self.client.endpoint(self.session.model).base_url
        return [*doctor_local.config_files(self.session), *doctor_local.settings(self.session),
                *doctor_local.gateway_url(self.session, endpoint), *doctor_local.proxy(endpoint)]

    def _gateway(self) -> list[Check]:
        request = self.client.request("models", {}, model=self.session.model)
        started = time.perf_counter()
        try:
            listed = self.client.transport.handle(request)
        except errors.ConnectionError as exc:
            proxy = doctor_local.applying(request.endpoint.base_url)
            through = (f" The request went through the proxy {doctor_local.hide_password(proxy)} (from the "
                       f"environment): check it, or add the gateway's host to no_proxy.") if proxy else ""
            return [Check("reachable", False, "could not connect", f"{exc}{through}"), *_skipped("key", "models")]
        except errors.TimeoutError as exc:
            return [Check("reachable", False, "no answer in time", str(exc)), *_skipped("key", "models")]
        except errors.LLMError as exc:
            took = time.perf_counter() - started
            answered = Check("reachable", True, f"answered with status {exc.status_code}", seconds=took)
            if isinstance(exc, errors.ConfigError) and exc.status_code == 404:
                return [answered, *_skipped("key"), Check("models", False, "the URL has no /models", str(exc))]
            return [answered, _key_refused(exc), *_skipped("models")]
        took = time.perf_counter() - started
        self.served = {m["id"]: m for m in listed}
        checks = [Check("reachable", True, "answered", seconds=took),
                  Check("key", True, "accepted")]
        return checks + [self._models()]

    def _models(self) -> Check:
        served = self.served or {}
        usable = [name for name in served if allows(self.session, name)]
        hidden = len(served) - len(usable)
        shown = f"{len(usable)} models: {', '.join(usable)}" + (f" ({hidden} more not allowed here)" if hidden else "")
        wanted = self.asked_model or self.session.model
        if wanted and wanted not in served:
            return Check("models", False, f"{wanted} is not served for this key; {shown}",
                         "Pick a served model: %llm_config model=NAME (%llm_models lists them).")
        if wanted and not allows(self.session, wanted):
            return Check("models", False, f"{wanted} is not allowed here; {shown}",
                         "Pick an allowed model: %llm_models lists them.")
        self.model = wanted or self._first("chat")
        if self.model is None:
            return Check("models", False, f"no chat model; {shown}", "Ask the gateway's admin which key serves chat.")
        default = f"default model {self.model}" + ("" if wanted else " (the first served: none is set)")
        return Check("models", True, f"{shown}\n{default}")

    def _first(self, kind: str) -> str | None:
        overrides = self.session.model_overrides
        for name, entry in (self.served or {}).items():
            if allows(self.session, name) and describe(name, server=entry, overrides=overrides.get(name)).kind == kind:
                return name
        return None

    def _routes(self) -> list[Check]:
        checks = []
        for route in self.session.routes.values():
            client = Client(self.session, timeout=self.client.timeout, max_retries=0, transport=http_transport())
            pattern = ", ".join(route.models)
            probe = next(iter(route.models), "")
            try:
                listed = client.transport.handle(client.request("models", {}, model=probe))
            except errors.LLMError as exc:
                checks.append(Check(f"route {route.name}", False, f"{pattern}: {type(exc).__name__}", str(exc)))
                continue
            reached = [m["id"] for m in listed if route.matches(m["id"])]
            if reached:
                checks.append(Check(f"route {route.name}", True, f"{pattern}: reaches {', '.join(reached)}"))
            else:
                checks.append(Check(f"route {route.name}", False, f"{pattern}: its key reaches no such model",
                                    "Check the route's models and key (api_key_env) in the config file."))
        return checks

    # -- what the key may spend -------------------------------------------------------------

    def _quota(self) -> list[Check]:
        if self.served is None:
            return _skipped("quota")
        try:
            quota = fetch_quota(self.session, timeout=self.client.timeout)
        except errors.QuotaExceeded as exc:
            return [Check("quota", False, "spent", str(exc))]
        except errors.LLMError as exc:
            return [Check("quota", None, f"not reported ({type(exc).__name__})", str(exc))]
        if quota is None:
            return [Check("quota", None, "not reported: the gateway has no billing routes (one-api has them)")]
        if quota.spent:
            return [Check("quota", False, str(quota), "Ask the gateway's admin for more quota.")]
        return [Check("quota", True, str(quota))]

    # -- one tiny streamed chat ---------------------------------------------------------------

    def _chat(self) -> list[Check]:
        if self.model is None:
            return _skipped("chat", "reasoning", "thinking switch")
        info = describe(self.model, server=(self.served or {}).get(self.model),
                        overrides=self.session.model_overrides.get(self.model))
        try:
            first, seen, took = self._probe(info, think=None)
        except errors.LLMError as exc:
            return [_chat_refused(exc, self.model), *_skipped("reasoning", "thinking switch")]
        if first is None:
            chat = Check("chat", False, f"{self.model} sent no text", "The model server may be failing: ask the admin.")
        else:
            chat = Check("chat", True, f"{self.model}: first token after {first:.2f} s", seconds=took)
        checks = [chat, Check("reasoning", True, _where_reasoning(seen, info))]
        if not info.thinking_switch:
            checks.append(Check("thinking switch", None, f"{self.model} has no thinking switch"))
            return checks
        try:
            _, off, _ = self._probe(info, think=False)
        except errors.LLMError as exc:
            return checks + [Check("thinking switch", False, type(exc).__name__, str(exc))]
        if off:
            checks.append(Check("thinking switch", False, f"not honoured: {self.model} thought with thinking off",
                                "The gateway may drop chat_template_kwargs: %llm_config soft_think_switch=true "
                                "adds /no_think to the prompt instead."))
        else:
            checks.append(Check("thinking switch", True, "honoured: no reasoning with thinking off"))
        return checks

    def _probe(self, info, think: bool | None) -> tuple[float | None, set[str], float]:
        """One streamed chat: seconds to the first token, where reasoning came, seconds in all."""
        body = {"model": self.model, "messages": [{"role": "user", "content": PROMPT}], "max_tokens": PROBE_TOKENS}
        # The switch as every request sends it, soft switch included when the session asks for it.
        apply_thinking(body, info, think, soft=self.session.soft_think_switch)
        started = time.perf_counter()
        first, seen, text = None, set(), ""
        chunks = self.client.chat(body)
        try:
            for chunk in chunks:
                for choice in chunk.get("choices") or ():
                    delta = choice.get("delta") or {}
                    for key in ("reasoning", "reasoning_content"):
                        if delta.get(key):
                            seen.add(key)
                    text += delta.get("content") or ""
                    if first is None and (text or seen):
                        first = time.perf_counter() - started
        finally:
            chunks.close()
        if "<think>" in text or "</think>" in text:
            seen.add("inline")
        return first, seen, time.perf_counter() - started

    # -- the other endpoints and the setup ----------------------------------------------------

    def _embeddings(self) -> list[Check]:
        model = self._first("embedding") if self.served is not None else None
        if model is None:
            return [Check("embeddings", None, "no embedding model served" if self.served is not None else "not checked")]
        started = time.perf_counter()
        try:
            answer = self.client.embeddings({"model": model, "input": ["doctor"], "encoding_format": "float"})
        except errors.LLMError as exc:
            return [Check("embeddings", False, f"{model}: {type(exc).__name__}", str(exc))]
        took = time.perf_counter() - started
        dimensions = len(answer["data"][0]["embedding"])
        return [Check("embeddings", True, f"{model}: {dimensions} dimensions", seconds=took)]

    def _rerank(self) -> list[Check]:
        model = self._first("rerank") if self.served is not None else None
        if model is None:
            return [Check("rerank", None, "no rerank model served" if self.served is not None else "not checked")]
        started = time.perf_counter()
        try:
            self.client.rerank({"model": model, "query": "doctor", "documents": ["a doctor", "a river"]})
        except errors.CapabilityError as exc:
            return [Check("rerank", False, f"{model}: the gateway has no /v1/rerank route", str(exc))]
        except errors.LLMError as exc:
            return [Check("rerank", False, f"{model}: {type(exc).__name__}", str(exc))]
        took = time.perf_counter() - started
        return [Check("rerank", True, f"{model}: answered", seconds=took)]

def _skipped(*names: str) -> list[Check]:
    return [Check(name, None, "not checked: an earlier check failed") for name in names]


def _key_refused(exc: errors.LLMError) -> Check:
    """The key line for a refusal of ``/v1/models``, told apart by the error the refusal mapped to."""
    if isinstance(exc, errors.QuotaExceeded):
        return Check("key", False, "refused: its quota is spent", str(exc))
    if isinstance(exc, errors.AuthenticationError) and exc.status_code == 401:
        return Check("key", False, "refused: wrong, expired or disabled key", str(exc))
    if isinstance(exc, errors.AuthenticationError):
        return Check("key", False, "refused: access denied", str(exc))
    return Check("key", False, f"{type(exc).__name__} ({exc.status_code})", str(exc))


def _chat_refused(exc: errors.LLMError, model: str) -> Check:
    # /v1/models took the key already, so a 403 here is this model's: one-api's key model list.
    if isinstance(exc, errors.QuotaExceeded):
        return Check("chat", False, "refused: the key's quota is spent", str(exc))
    if isinstance(exc, errors.AuthenticationError):
        return Check("chat", False, f"refused: this key may not use {model}", str(exc))
    if isinstance(exc, errors.TimeoutError):
        return Check("chat", False, f"{model} sent nothing in time", str(exc))
    return Check("chat", False, f"{model}: {type(exc).__name__}", str(exc))


def _where_reasoning(seen: set[str], info) -> str:
    fields = sorted(seen - {"inline"})
    if fields:
        return f"in its own field ({', '.join(fields)})"
    if "inline" in seen:
        return "inline in the text, between <think> tags"
    if info.opens_thinking:
        return (f"none closed within {PROBE_TOKENS} tokens; the catalogue expects it inline with no opening tag "
                f"(the template opens the think block)")
    return "none: the model answered directly"


