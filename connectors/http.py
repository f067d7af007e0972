"""HTTP for helpdesk connectors: requests with retries (tenacity), honest errors, counted calls.

429 honours ``Retry-After`` when it is short and otherwise gives up for this cycle; 5xx,
timeouts and connection errors are retried with backoff and then reported; a body that is not
JSON is a clear error (never half-parsed); 401/403 are authentication errors that name the
helpdesk. Secrets are never part of an error message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from hygiene.errors import AuthError, ExternalError


class _Retry(Exception):
    pass


class NotFound(ExternalError):
    def __init__(self, system: str, what: str) -> None:
        super().__init__(system, f"{what}: not found", transient=False)


class HttpClient:
    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        sleep: Callable[[float], None],
        retries: int = 3,
        max_retry_after: float = 30,
        timeout: float = 15,
        session: requests.Session | None = None,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.sleep = sleep
        self.retries = retries
        self.max_retry_after = max_retry_after
        self.timeout = timeout
        self.session = session or requests.Session()
        self.calls = 0
        self.auth_headers: Callable[[], dict[str, str]] = dict
        self.on_unauthorized: Callable[[], bool] = lambda: False
        """Called on a 401; returning True (credentials refreshed) retries the call once."""

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        """The decoded JSON body (None for 204)."""
        retrying = Retrying(
            stop=stop_after_attempt(self.retries + 1),
            wait=wait_exponential(multiplier=0.5, max=8),
            retry=retry_if_exception_type(_Retry),
            sleep=self.sleep,
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._once(method, path, kwargs, refreshed=False)
        except _Retry as exc:
            raise ExternalError(
                self.system, f"{method} {path}: {exc} (gave up after {self.retries + 1} attempts)"
            ) from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _once(self, method: str, path: str, kwargs: dict[str, Any], *, refreshed: bool) -> Any:
        extra = {key: value for key, value in kwargs.items() if key != "headers"}
        headers = {"Accept": "application/json", **self.auth_headers(), **kwargs.get("headers", {})}
        self.calls += 1
        try:
            response = self.session.request(
                method, self.base_url + path, headers=headers, timeout=self.timeout, **extra
            )
        except requests.Timeout:
            raise _Retry("timed out") from None
        except requests.ConnectionError:
            raise _Retry("connection failed") from None
        status = response.status_code
        if status == 401 and not refreshed and self.on_unauthorized():
            return self._once(method, path, kwargs, refreshed=True)
        if status in (401, 403):
            raise AuthError(self.system, f"{method} {path}: credentials refused (HTTP {status})")
        if status == 404:
            raise NotFound(self.system, f"{method} {path}")
        if status == 429:
            wait = _retry_after(response)
            if wait > self.max_retry_after:
                raise ExternalError(self.system, f"rate limited for {wait:.0f}s; left for the next cycle")
            self.sleep(wait)
            raise _Retry(f"rate limited (Retry-After {wait:.0f}s)")
        if status >= 500:
            raise _Retry(f"HTTP {status}")
        if status >= 400:
            raise ExternalError(self.system, f"{method} {path}: HTTP {status} {_detail(response)}", transient=False)
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise ExternalError(self.system, f"{method} {path}: the response is not valid JSON") from None


def _retry_after(response: requests.Response) -> float:
    try:
        return max(0.0, float(response.headers.get("Retry-After", "1")))
    except ValueError:
        return 1.0


def _detail(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return ""
    if isinstance(body, dict):
        for key in ("description", "message", "error"):
            if isinstance(body.get(key), str):
                return f"({body[key][:120]})"
    return ""
