"""HTTP for helpdesk connectors: requests with the shared retry policy, typed errors, counted calls.

Reads are retried with backoff (connectors/retry.py); a write is never re-sent after a failure
that may have carried it out (timeout, reset, 5xx, malformed answer): that is
:class:`~hygiene.errors.OutcomeUnknown`, and the caller looks for the write by its key. 429
honours ``Retry-After`` when it is short and fits the cycle's sleep cap, else defers
(:class:`~hygiene.errors.RateLimited`); 401/403 are authentication errors that name the
helpdesk; other 4xx are permanent. Connection errors name their cause (DNS, refused, TLS).
Secrets are never part of an error message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import urlparse

import requests
from pydantic import Field

from connectors.retry import Retry, SleepBudget, SleepCapReached, Unsure, connection_cause, retrying
from hygiene.errors import (
    AuthError,
    NotFound,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from hygiene.settings import Section

__all__ = ["HttpClient", "HttpSettings", "NotFound"]

IDEMPOTENT = {"GET", "HEAD", "OPTIONS"}


class HttpSettings(Section):
    """The HTTP knobs every connector over HTTP shares: its settings extend this (one place for the bounds)."""

    retries: int = Field(3, ge=0, le=10, description="Reads only: a write is never resent before it is looked for.")
    timeout_seconds: float = Field(15, gt=0, description="One HTTP call gives up after this.")
    max_retry_after_seconds: float = Field(
        30, ge=0, description="A 429 asking to wait longer defers the call to a later cycle."
    )
    max_sleep_per_cycle_seconds: float = Field(
        60, ge=0, description="Backoff and Retry-After waits in one cycle stop here; the rest waits for the next."
    )


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
        sleep_cap: float = 60,
    ) -> None:
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.host = urlparse(self.base_url).hostname or ""
        self.budget = SleepBudget(sleep, sleep_cap)
        self.retries = retries
        self.max_retry_after = max_retry_after
        self.timeout = timeout
        self.session = session or requests.Session()
        self.calls = 0
        self.auth_headers: Callable[[], dict[str, str]] = dict
        self.on_unauthorized: Callable[[], bool] = lambda: False
        """Called on a 401; returning True (credentials refreshed) retries the call once."""

    def request(self, method: str, path: str, *, idempotent: bool | None = None, **kwargs: Any) -> Any:
        """The decoded JSON body (None for 204).

        Reads are retried; a write (POST, PUT …) unless ``idempotent`` is never re-sent after a
        failure that may have carried it out: it raises :class:`OutcomeUnknown` instead.
        """
        safe = method in IDEMPOTENT if idempotent is None else idempotent
        try:
            for attempt in retrying(self.retries, self.budget, idempotent=safe):
                with attempt:
                    return self._once(method, path, kwargs, refreshed=False)
        except Unsure as exc:
            if not safe:
                raise OutcomeUnknown(self.system, f"{method} {path}: {exc}; it may have been carried out") from None
            raise TransientError(
                self.system, f"{method} {path}: {exc} (gave up after {self.retries + 1} attempts)"
            ) from None
        except Retry as exc:
            raise TransientError(
                self.system, f"{method} {path}: {exc} (gave up after {self.retries + 1} attempts)"
            ) from None
        except SleepCapReached as exc:
            raise TransientError(self.system, f"{method} {path}: {exc}; left for the next cycle") from None
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
            raise Unsure(f"timed out after {self.timeout:g}s") from None
        except requests.ConnectionError as exc:
            raise Unsure(connection_cause(exc, self.host)) from None
        status = response.status_code
        if status == 401 and not refreshed and self.on_unauthorized():
            return self._once(method, path, kwargs, refreshed=True)
        if status in (401, 403):
            raise AuthError(self.system, f"{method} {path}: credentials refused (HTTP {status})")
        if status == 404:
            raise NotFound(self.system, f"{method} {path}: not found")
        if status == 429:
            self._wait_retry_after(method, path, _retry_after(response))
        if status >= 500 or status == 408:
            raise Unsure(f"HTTP {status}")
        if status >= 400:
            raise PermanentError(self.system, f"{method} {path}: HTTP {status} {_detail(response)}".rstrip())
        if status == 204 or not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            raise Unsure("the response is not valid JSON (malformed or truncated body)") from None

    def _wait_retry_after(self, method: str, path: str, wait: float) -> None:
        """A short Retry-After is waited out (then retried: a 429 was not carried out); a long one defers."""
        if wait > self.max_retry_after or not self.budget.allows(wait):
            raise RateLimited(
                self.system, f"{method} {path}: rate limited for {wait:.0f}s; left for the next cycle", wait
            )
        self.budget.sleep(wait)
        raise Retry(f"rate limited (Retry-After {wait:.0f}s)")


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
