"""A small JSON API server on loopback for the helpdesk sandboxes, with the same faults as Slack's.

Routes are ``(HTTP method, path regex, name, handler)``; a handler takes the request and returns
``(status, body, headers)``. Faults are injected per route name (``{0}`` in a name stands for
the path's first group, so Slack's faults are per API method); see :class:`Fault`.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse


@dataclass
class Fault:
    """Make the next ``times`` calls of a route fail in a given way.

    kind: ``ratelimited`` (429 + Retry-After), ``server_error`` (HTTP 500), ``unavailable`` (503),
    ``timeout`` (wait ``delay`` seconds, then carry the call out and answer: a write that lands
    late), ``late`` (carry the call out at once, answer after ``delay`` seconds: a write done
    whose answer comes after the client's timeout), ``reset`` (close the connection without
    answering, nothing done), ``reset_after`` (carry the call out, then close without
    answering), ``malformed`` (200 with a body that is not JSON), ``unauthorized`` (401) or
    ``error:<code>`` (Slack's ``{"ok": false, "error": code}``).
    """

    method: str
    kind: str
    times: int = 1
    retry_after: int = 1
    delay: float = 2.0


@dataclass
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: Any
    headers: dict[str, str]
    groups: tuple[str, ...] = ()


Reply = tuple[int, Any, dict[str, str]]
Handler = Callable[[Request], Reply]


@dataclass
class FaultBook:
    faults: list[Fault] = field(default_factory=list)
    calls: dict[str, int] = field(default_factory=dict)
    lock: threading.RLock = field(default_factory=threading.RLock)
    chaos: Callable[[str], Fault | None] | None = None
    """A storm: asked on every call that has no injected fault (see sandbox/storm.py)."""
    injected: dict[str, int] = field(default_factory=dict)
    busy_until: float = 0.0
    """When the last slow answer (``timeout``, ``late``) is done, on the monotonic clock."""

    def inject(self, route: str, kind: str, times: int = 1, **options: Any) -> None:
        with self.lock:
            self.faults.append(Fault(method=route, kind=kind, times=times, **options))

    def take(self, route: str) -> Fault | None:
        with self.lock:
            self.calls[route] = self.calls.get(route, 0) + 1
            for fault in self.faults:
                if fault.method in (route, "*") and fault.times > 0:
                    fault.times -= 1
                    return self._count(fault)
            return self._count(self.chaos(route)) if self.chaos else None

    def _count(self, fault: Fault | None) -> Fault | None:
        if fault is not None:
            self.injected[fault.kind] = self.injected.get(fault.kind, 0) + 1
            if fault.kind in ("timeout", "late"):
                self.busy_until = max(self.busy_until, time.monotonic() + fault.delay + 0.05)
        return fault


class JsonApiServer:
    """Serve routes on 127.0.0.1 in a background thread (a context manager)."""

    def __init__(self, routes: Sequence[tuple[str, str, str, Handler]], faults: FaultBook) -> None:
        compiled = [(method, re.compile(f"^{pattern}$"), name, handler) for method, pattern, name, handler in routes]
        faults_ = faults

        class _Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_GET(self) -> None:
                self._handle("GET")

            def do_POST(self) -> None:
                self._handle("POST")

            def do_PUT(self) -> None:
                self._handle("PUT")

            def do_PATCH(self) -> None:
                self._handle("PATCH")

            def do_DELETE(self) -> None:
                self._handle("DELETE")

            def _handle(self, method: str) -> None:
                url = urlparse(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                content_type = self.headers.get("Content-Type", "")
                if raw and "json" in content_type:
                    body: Any = json.loads(raw.decode("utf-8"))
                elif raw:
                    body = {k: v[-1] for k, v in parse_qs(raw.decode("utf-8")).items()}
                else:
                    body = None
                query = {k: v[-1] for k, v in parse_qs(url.query).items()}
                for route_method, pattern, name, handler in compiled:
                    match = pattern.match(url.path)
                    if route_method == method and match:
                        fault = faults_.take(name.format(*match.groups()))
                        if fault is not None and self._fault(fault):
                            return
                        request = Request(method, url.path, query, body, dict(self.headers), match.groups())
                        status, payload, headers = handler(request)
                        if fault is not None and fault.kind == "reset_after":
                            self.close_connection = True
                            return
                        if fault is not None and fault.kind == "late":
                            time.sleep(fault.delay)
                        self._send(status, payload, headers)
                        return
                self._send(404, {"error": "RecordNotFound", "description": "Not found"}, {})

            def _fault(self, fault: Fault) -> bool:
                if fault.kind == "ratelimited":
                    self._send(429, {"error": "TooManyRequests"}, {"Retry-After": str(fault.retry_after)})
                elif fault.kind == "server_error":
                    self._raw(500, b"<html>Internal Server Error</html>", "text/html")
                elif fault.kind == "unavailable":
                    self._raw(503, b"<html>Service Unavailable</html>", "text/html")
                elif fault.kind == "reset":
                    self.close_connection = True
                elif fault.kind == "malformed":
                    self._raw(200, b'{"ok": true, "content": [', "application/json")
                elif fault.kind.startswith("error:"):
                    self._send(200, {"ok": False, "error": fault.kind.split(":", 1)[1]}, {})
                elif fault.kind == "unauthorized":
                    self._send(401, {"error": "invalid_token"}, {})
                elif fault.kind == "timeout":
                    time.sleep(fault.delay)
                    return False
                elif fault.kind in ("late", "reset_after"):
                    return False
                return True

            def _send(self, status: int, payload: Any, headers: dict[str, str]) -> None:
                body = b"" if payload is None else json.dumps(payload).encode("utf-8")
                self._raw(status, body, "application/json; charset=utf-8", headers)

            def _raw(self, status: int, body: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", content_type)
                    self.send_header("Content-Length", str(len(body)))
                    for key, value in (headers or {}).items():
                        self.send_header(key, value)
                    self.end_headers()
                    self.wfile.write(body)
                except (BrokenPipeError, ConnectionResetError):
                    pass

        class _Server(ThreadingHTTPServer):
            daemon_threads = True
            allow_reuse_address = True

        self._server = _Server(("127.0.0.1", 0), _Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="api-sandbox", daemon=True
        )

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> JsonApiServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> JsonApiServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
