"""The retry policy every connector shares: reads retried with backoff, writes never retried blind.

A read (or anything the caller marks idempotent) is tried ``retries + 1`` times with exponential
backoff and jitter (tenacity). A write that timed out, lost its connection, got a 5xx or a
malformed answer may have been carried out: it is never re-sent here, the caller gets
:class:`~hygiene.errors.OutcomeUnknown` and the outbox looks for it by its key first. A 429 is
a refusal, so even a write may be re-sent after a short ``Retry-After``; a long one, or one that
would take the cycle past its sleep cap, defers the call to a later cycle.
"""

from __future__ import annotations

import socket
import ssl
from collections.abc import Callable

from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential, wait_random


class Retry(Exception):
    """A failure worth retrying (for a write: only a refusal such as 429)."""


class Unsure(Retry):
    """A failure after which a write's outcome is unknown (timeout, reset, 5xx, malformed body)."""


class SleepCapReached(Exception):
    """Sleeping more would take the cycle past its sleep cap."""


class SleepBudget:
    """Seconds a connector may sleep in one cycle (backoff and Retry-After together)."""

    def __init__(self, sleep: Callable[[float], None], cap: float = 60) -> None:
        self._sleep = sleep
        self.cap = cap
        self.slept = 0.0

    def allows(self, seconds: float) -> bool:
        return self.slept + seconds <= self.cap

    def sleep(self, seconds: float) -> None:
        if not self.allows(seconds):
            raise SleepCapReached(f"the cycle's sleep cap of {self.cap:.0f}s is spent")
        self.slept += seconds
        self._sleep(seconds)


def retrying(retries: int, budget: SleepBudget, *, idempotent: bool) -> Retrying:
    """Tenacity's loop: a write retries only refusals (``Retry`` but not ``Unsure``)."""

    def worth_it(exc: BaseException) -> bool:
        return isinstance(exc, Retry) and (idempotent or not isinstance(exc, Unsure))

    return Retrying(
        stop=stop_after_attempt(retries + 1),
        wait=wait_exponential(multiplier=0.5, max=8) + wait_random(0, 0.5),
        retry=retry_if_exception(worth_it),
        sleep=budget.sleep,
        reraise=True,
    )


def connection_cause(exc: BaseException, host: str = "") -> str:
    """What kept us from the service, in words: DNS, refused, reset, TLS, timeout."""
    cause = _cause(exc, host)
    return cause if cause.startswith("timed out") else f"connection failed: {cause}"


def _cause(exc: BaseException, host: str) -> str:
    where = f" ({host})" if host else ""
    seen: list[BaseException] = []
    _walk(exc, seen)
    for item in seen:
        if isinstance(item, socket.gaierror):
            return f"DNS lookup failed{where}"
        if isinstance(item, ssl.SSLError):
            return f"TLS error{where}: {getattr(item, 'reason', None) or type(item).__name__}"
        if isinstance(item, ConnectionRefusedError):
            return f"connection refused{where}"
        if isinstance(item, ConnectionResetError):
            return f"connection reset{where}"
        if isinstance(item, (TimeoutError, socket.timeout)):
            return f"timed out{where}"
    text = " ".join(str(item) for item in seen).lower()
    if "name or service not known" in text or "failed to resolve" in text or "nodename nor servname" in text:
        return f"DNS lookup failed{where}"
    if "refused" in text:
        return f"connection refused{where}"
    if "timed out" in text or "timeout" in text:
        return f"timed out{where}"
    if "ssl" in text or "certificate" in text:
        return f"TLS error{where}"
    return f"{type(exc).__name__}{where}"


def _walk(exc: BaseException | None, seen: list[BaseException], depth: int = 0) -> None:
    if exc is None or depth > 8 or any(exc is item for item in seen):
        return
    seen.append(exc)
    for nested in (getattr(exc, "reason", None), exc.__cause__, exc.__context__, *exc.args):
        if isinstance(nested, BaseException):
            _walk(nested, seen, depth + 1)
