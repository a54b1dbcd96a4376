"""The HTTP side of the gateway emulator: routing, auth, faults, pacing, SSE writing.

Standard library only: a ``ThreadingHTTPServer`` speaking HTTP/1.1 with keep-alive;
streams use chunked transfer encoding and are written chunk by chunk as produced.
"""
from __future__ import annotations

import hashlib
import json
import random
import socket
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import unquote, urlsplit

from . import _billing, _chat, _endpoints, _gateways, _wire
from ._errors import ServerError, bad_request
from ._gateways import fault as fault_error
from ._models import ModelTable, SettingError, parse_header

_SECRET_HEADERS = {"authorization", "proxy-authorization", "api-key", "x-api-key"}
_BODY_FAULTS = {"cut", "cut-done", "drop"}
_EPOCH = 1_750_000_000  # ``created`` counts up from here: deterministic, never the clock


class State:
    """Everything the handler threads share: configuration, request log, counters."""

    def __init__(self, table: ModelTable, keys: dict[str, str] | None):
        self.table = table
        self.keys = dict(keys) if keys is not None else None
        self.lock = threading.Lock()
        self.log: list[dict] = []
        self.fault_counts: dict[tuple, int] = {}
        #: What each key has spent of its quota, by a digest of the key (_billing.account).
        self.spent: dict[str, float] = {}
        self.inflight = 0
        self.counter = 0
        self.stopping = threading.Event()
        self.connections: set[socket.socket] = set()

    def reset(self) -> None:
        """Forget the request log, the fault counters and what each key has spent."""
        with self.lock:
            self.log.clear()
            self.fault_counts.clear()
            self.spent.clear()

    def charge(self, account: str, amount: float) -> None:
        """Count ``amount`` against the quota of the key filed as ``account``."""
        with self.lock:
            self.spent[account] = self.spent.get(account, 0.0) + amount

    def ident(self, prefix: str) -> tuple[str, int]:
        """A fresh response id and ``created`` stamp, derived from a counter."""
        with self.lock:
            self.counter += 1
            n = self.counter
        digest = hashlib.sha256(f"{prefix}:{n}".encode()).hexdigest()[:32]
        return f"{prefix}-{digest}", _EPOCH + n

    def fault_due(self, model: str, name: str, times: int | None) -> bool:
        """Count one request for (model, fault); True while within ``fault_times``."""
        with self.lock:
            seen = self.fault_counts.get((model, name), 0)
            self.fault_counts[(model, name)] = seen + 1
        return times is None or seen < times


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 256

    def __init__(self, address: tuple[str, int], state: State):
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        self.state = state
        super().__init__(address, _Handler)

    def handle_error(self, request, client_address) -> None:
        if not isinstance(sys.exc_info()[1], OSError):  # a vanished client is not news
            super().handle_error(request, client_address)


def _header_text(value: str) -> str:
    # http.server decodes header bytes as latin-1; clients send UTF-8 (a CJK model name).
    try:
        return value.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return value


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "jupyter-llm-emulator"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # the request log is the record
        pass

    def version_string(self) -> str:
        return self.server_version

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server.state.lock:
            self.server.state.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.state.lock:
            self.server.state.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass

    def do_GET(self) -> None:
        self._dispatch()

    do_POST = do_PUT = do_DELETE = do_PATCH = do_GET

    # -- plumbing ---------------------------------------------------------------
    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            data = bytearray()
            while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                data += self.rfile.read(size)
                self.rfile.readline()
            while self.rfile.readline().strip():  # trailers
                pass
            return bytes(data)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def send_json(self, status: int, value: Any, headers: dict | None = None,
                  fault: str | None = None) -> None:
        """Write a JSON reply (``value`` may be pre-rendered JSON text)."""
        if isinstance(value, bytes):
            data = value
        else:
            data = (value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)).encode()
        sent = data
        if fault == "malformed":
            data = sent = data[: len(data) // 2]
        elif fault in _BODY_FAULTS:
            sent = data[: len(data) // 2]
            self.close_connection = True
        self.send_response(status)
        if fault in _BODY_FAULTS:
            self.send_header("Connection", "close")
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, val in (headers or {}).items():
            self.send_header(name, val)
        if fault:
            self.send_header("X-Emulator-Fault", fault)
        self.end_headers()
        self.wfile.write(sent)

    def send_error_reply(self, error: ServerError, shape: str = "openai", fault: str | None = None) -> None:
        """Write a ServerError in the requested shape."""
        headers = dict(error.headers)
        if fault:
            headers["X-Emulator-Fault"] = fault
        self.send_json(error.status, b"" if error.empty else error.body(shape), headers)

    def stream(self, reply: _chat.Reply, fault: str | None) -> None:
        """Write a chat reply as SSE, paced by ``rate`` tokens per second."""
        chunked = self.request_version != "HTTP/1.0"  # else the end of the body is the close
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        if fault:
            self.send_header("X-Emulator-Fault", fault)
        if fault in _BODY_FAULTS or not chunked:
            self.send_header("Connection", "close")
        self.end_headers()
        rate, stopping = reply.settings["rate"], self.server.state.stopping
        send = self.wfile.write
        write = (lambda data: send(b"%X\r\n%b\r\n" % (len(data), data))) if chunked else send
        start, tokens = time.monotonic(), 0
        # Wall-clock times a browser can compare with its own Date.now(): when the first and
        # the last token left for the client (the request log shows them).
        first = last = None
        for data, count in _wire.stream(reply, fault, self._echo(reply.settings)):
            if data is _wire.ABORT:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            tokens += count
            if rate > 0 and count:
                wait = start + tokens / rate - time.monotonic()
                if wait > 0 and stopping.wait(wait):
                    self.close_connection = True
                    return
            write(data)
            if count:
                last = time.time()
                first = first or last
        self._entry["tokens_written"] = {"first": first, "last": last}
        if chunked:
            send(b"0\r\n\r\n")

    # -- routing ----------------------------------------------------------------
    def _dispatch(self) -> None:
        state = self.server.state
        path = unquote(urlsplit(self.path).path)
        raw = self._read_body()
        if path.startswith("/emulator/"):
            return self._control(path)
        if path == "/health":
            return self.send_json(200, {})
        authorization = self.headers.get("Authorization", "").strip()
        scheme, _, rest = authorization.partition(" ")
        if scheme.lower() == "bearer":
            form, key = "bearer", rest.strip()
        else:
            form, key = ("raw" if authorization else "none"), authorization
        self._key = key
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        entry = {"path": path, "method": self.command, "auth": form, "body": body,
                 "headers": {k.lower(): _header_text(v) for k, v in self.headers.items()
                             if k.lower() not in _SECRET_HEADERS}}
        with state.lock:
            state.log.append(entry)
        self._entry = entry
        shape = "openai"
        try:
            group = self._group(key)
            self.account = _billing.account(key)
            if raw and body is None:
                raise bad_request("The request body is not valid JSON.")
            if self.command == "GET" and (path.startswith("/v1/models") or path in _billing.ROUTES):
                return self._get(path, group)
            route = _endpoints.ROUTES.get(path)
            if self.command != "POST" or route is None:
                raise ServerError(404, f"Invalid URL ({self.command} {path})",
                                  "invalid_request_error", None, "invalid_url", fixed=True)
            if not isinstance(body, dict):
                raise bad_request("The request body must be a JSON object.")
            name = body.get("model")
            settings = self._settings(name)
            shape = settings["error_shape"]
            _billing.check(self.spent(), settings)
            if not isinstance(name, str) or name not in state.table or not (
                    group in (None, "*") or settings["group"] in (group, "*")):
                raise _gateways.unknown_model(settings["gateway"], name, group or "default")
            self._run(route, body, name, settings)
        except ServerError as error:
            self.send_error_reply(error, shape)
        except OSError:
            self.close_connection = True
        except Exception as exc:  # a bug in the emulator: say so, keep serving
            traceback.print_exc()
            self.send_error_reply(ServerError(500, f"emulator error: {exc!r}", "InternalServerError"))

    def _get(self, path: str, group: str | None) -> None:
        table, settings = self.server.state.table, self._settings(None)
        _billing.check(self.spent(), settings)
        if path in _billing.ROUTES:
            return self.send_json(200, _billing.answer(_billing.ROUTES[path], self.spent(), settings))
        if path == "/v1/models":
            return self.send_json(200, _endpoints.models(table, group, settings))
        if path.startswith("/v1/models/"):
            return self.send_json(200, _endpoints.model(table, group, path[11:], settings))
        raise ServerError(404, f"Invalid URL ({self.command} {path})", "invalid_request_error", None,
                          "invalid_url", fixed=True)

    def spent(self) -> float:
        """What this request's key has spent of its quota so far."""
        with self.server.state.lock:
            return self.server.state.spent.get(self.account, 0.0)

    def charge(self, tokens: int, settings: dict) -> None:
        """Count ``tokens`` at the model's price against this request's key."""
        self.server.state.charge(self.account, _billing.cost(tokens, settings))

    def _group(self, key: str) -> str | None:
        keys = self.server.state.keys
        if not key:
            raise _gateways.bad_key(missing=True)
        if keys is None:
            return None
        if key not in keys:
            raise _gateways.bad_key(missing=False)
        return keys[key]

    def _echo(self, settings: dict) -> str:
        """The caller's token as a gateway's quota error quotes it: whole, then cut and masked."""
        key = getattr(self, "_key", "")
        return f" (token {key}; {key[:16]}****)" if settings["echo_key"] and key else ""

    def _settings(self, name: str | None) -> dict:
        header = "; ".join(_header_text(v) for v in self.headers.get_all("X-Emulator") or [])
        try:
            return self.server.state.table.settings(name, parse_header(header))
        except SettingError as exc:
            raise bad_request(f"X-Emulator header: {exc}") from None

    def _run(self, route, body: dict, name: str, s: dict) -> None:
        state = self.server.state
        limit = s["max_concurrency"]
        with state.lock:
            if limit and state.inflight >= limit:
                busy = True
            else:
                busy, state.inflight = False, state.inflight + 1
        if busy:
            raise ServerError(429, f"Too many concurrent requests for model {name} (limit "
                              f"{limit}); please retry later.", "rate_limit_error", None,
                              "rate_limit_exceeded", headers={"Retry-After": f"{s['retry_after']:g}"})
        try:
            delay = _latency(s["latency"], body)
            if delay > 0 and state.stopping.wait(delay):
                return
            fault = s["fault"]
            if fault and not state.fault_due(name, fault, s["fault_times"]):
                fault = None
            error = fault_error(fault, name, s["retry_after"]) if fault else None
            if error:
                error.message += self._echo(s)
                return self.send_error_reply(error, s["error_shape"], fault)
            if fault == "slow" and state.stopping.wait(s["delay"]):
                return
            try:
                route(self, body, name, s, fault)
            except ServerError as error:  # a fault that is a 4xx (context): label it too
                if fault:
                    error.headers.setdefault("X-Emulator-Fault", fault)
                raise
        finally:
            with state.lock:
                state.inflight -= 1

    def _control(self, path: str) -> None:
        state = self.server.state
        if path == "/emulator/requests" and self.command == "GET":
            with state.lock:
                log = list(state.log)
            return self.send_json(200, log)
        if path == "/emulator/reset" and self.command == "POST":
            state.reset()
            return self.send_json(200, {"reset": True})
        self.send_json(404, {"error": {"message": f"no emulator control at {self.command} {path}"}})


def _latency(text: str, body: dict) -> float:
    low, sep, high = str(text).strip().partition("-")
    try:
        if not sep or not low:
            return max(0.0, float(text))
        # A range is drawn from the request itself, so the same request waits the same.
        seed = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).digest()
        return random.Random(seed).uniform(float(low), float(high))
    except ValueError:
        raise bad_request(f"X-Emulator: latency={text!r} should be S or A-B seconds") from None


def serve(state: State, host: str, port: int) -> tuple[_Server, threading.Thread]:
    """Bind and start serving in a daemon thread."""
    server = _Server((host, port), state)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name=f"jupyter-llm-emulator:{server.server_address[1]}", daemon=True)
    thread.start()
    return server, thread


def shutdown(server: _Server, thread: threading.Thread) -> None:
    """Stop accepting, end waits and streams, close open connections."""
    state = server.state
    state.stopping.set()
    server.shutdown()
    server.server_close()
    with state.lock:
        connections = list(state.connections)
    for conn in connections:
        try:
            conn.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
    thread.join(timeout=5)
