"""Rocket.Chat's REST API (``/api/v1``) over requests, under one call budget and one retry policy.

Every call goes through :meth:`RocketChatClient.call`, which spends the per-cycle budget of its
endpoint and follows the shared retry policy (connectors/retry.py): reads are retried on 5xx,
timeouts, connection errors and malformed bodies; ``chat.sendMessage`` is never re-sent after such a
failure and raises :class:`~hygiene.errors.OutcomeUnknown`, so the outbox looks for it first.
``chat.react`` with ``shouldReact: true`` and ``im.create`` set a state rather than add one
(apps/meteor/app/reactions/server/setReaction.ts; im.create returns the existing DM), so they are
retried like reads.

The wire facts (apps/meteor/app/api/server/ApiClass.ts and its 8.x successor
apps/meteor/server/api/ApiClass.ts): a success body carries ``"success": true``; a failure is
``{"success": false, "error": "<reason> [<code>]", "errorType": "<code>"}`` with HTTP 400, 401
when the credentials are refused, 403 ``{"error": "unauthorized"}`` when the bot may not see the
room, 429 when the REST rate limiter refuses, with ``X-RateLimit-Reset`` as the epoch milliseconds
the window reopens (no ``Retry-After``). A short wait is slept within the cycle's sleep cap; a long
one closes the endpoint for the cycle. The token is never part of an error or a log line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlparse

import requests
import structlog

from connectors.budget import CallBudget
from connectors.retry import Retry, SleepBudget, SleepCapReached, Unsure, connection_cause, retrying
from hygiene.clock import Clock
from hygiene.errors import (
    AuthError,
    BudgetExhausted,
    ChannelGone,
    NotFound,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)

log = structlog.get_logger("hygiene.rocketchat")

SYSTEM = "rocketchat"
WRITES = frozenset({"chat.sendMessage"})
"""Endpoints never re-sent blind after a failure that may have carried them out."""
ROOM_ENDPOINTS = frozenset(
    {"channels.history", "groups.history", "chat.getThreadMessages", "chat.sendMessage", "chat.react"}
)
"""Endpoints whose 403 (or room errors) mean the room is gone or hygiene was removed from it."""
ROOM_GONE = frozenset({"error-room-not-found", "error-not-allowed", "error-room-archived", "error-action-not-allowed"})
NOT_FOUND = frozenset({"error-message-not-found", "error-invalid-message", "error-invalid-user"})
WAIT_SECONDS = re.compile(r"wait (\d+) seconds")


class RocketChatClient:
    """Rocket.Chat REST calls with a per-cycle budget, retries and typed errors."""

    def __init__(
        self,
        base_url: str,
        user_id: str,
        token: str,
        clock: Clock,
        budget: CallBudget,
        *,
        retries: int = 3,
        timeout: float = 15,
        max_retry_after: float = 10,
        sleep_cap: float = 60,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = urlparse(self.base_url).hostname or ""
        self.user_id = user_id
        self._token = token
        self.clock = clock
        self.budget = budget
        self.sleep_budget = SleepBudget(clock.sleep, sleep_cap)
        self.retries = retries
        self.timeout = timeout
        self.max_retry_after = max_retry_after
        self.session = session or requests.Session()

    def get(self, endpoint: str, **params: Any) -> dict[str, Any]:
        """A GET of ``/api/v1/<endpoint>`` (None parameters are left out)."""
        query = {key: _param(value) for key, value in params.items() if value is not None}
        return self.call("GET", endpoint, params=query)

    def post(self, endpoint: str, body: Mapping[str, Any]) -> dict[str, Any]:
        return self.call("POST", endpoint, json=dict(body))

    def call(self, http_method: str, endpoint: str, **kwargs: Any) -> dict[str, Any]:
        """One call under the shared retry policy; the success body."""
        safe = endpoint not in WRITES
        last: list[str] = []
        try:
            for attempt in retrying(self.retries, self.sleep_budget, idempotent=safe):
                with attempt:
                    self._spend(endpoint, last)
                    return self._once(http_method, endpoint, kwargs, last)
        except Unsure as exc:
            if not safe:
                raise OutcomeUnknown(SYSTEM, f"{endpoint}: {exc}; it may have been carried out") from None
            raise TransientError(SYSTEM, f"{endpoint}: {exc} (gave up after {self.retries + 1} attempts)") from None
        except Retry as exc:
            raise TransientError(SYSTEM, f"{endpoint}: {exc} (gave up after {self.retries + 1} attempts)") from None
        except SleepCapReached as exc:
            self.budget.close(endpoint, str(exc))
            raise BudgetExhausted(endpoint, f"{exc}; left for the next cycle") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def calls(self) -> dict[str, int]:
        return dict(self.budget.used)

    def _spend(self, endpoint: str, last: list[str]) -> None:
        """Spend a call of the budget; when retries spent it, the error names what went wrong."""
        try:
            self.budget.spend(endpoint)
        except BudgetExhausted:
            if last:
                raise TransientError(SYSTEM, f"{endpoint}: {last[-1]} (Rocket.Chat unreachable)") from None
            raise

    def _once(self, http_method: str, endpoint: str, kwargs: dict[str, Any], last: list[str]) -> dict[str, Any]:
        headers = {"Accept": "application/json", "X-User-Id": self.user_id, "X-Auth-Token": self._token}
        try:
            response = self.session.request(
                http_method, f"{self.base_url}/api/v1/{endpoint}", headers=headers, timeout=self.timeout, **kwargs
            )
        except requests.Timeout:
            last.append(f"timed out after {self.timeout:g}s")
            raise Unsure(last[-1]) from None
        except requests.ConnectionError as exc:
            last.append(connection_cause(exc, self.host))
            raise Unsure(last[-1]) from None
        body = _json(response)
        if response.status_code == 200 and isinstance(body, dict) and body.get("success") is True:
            return body
        return self._failure(endpoint, response, body, last)

    def _failure(self, endpoint: str, response: requests.Response, body: Any, last: list[str]) -> dict[str, Any]:
        status = response.status_code
        if status == 429:
            self._wait(endpoint, response, body)
        if status >= 500 or status == 408 or (status == 200 and not isinstance(body, dict)):
            last.append(f"HTTP {status}" if status != 200 else "malformed response body (not JSON)")
            raise Unsure(last[-1])
        if status == 401:
            raise AuthError(SYSTEM, f"{endpoint}: credentials refused (HTTP 401; check the bot's user id and token)")
        error, code = _error(body)
        detail = f"{endpoint}: HTTP {status} {error}".rstrip()
        if "Invalid emoji" in error:  # chat.react says error-not-allowed for an emoji it does not know
            raise PermanentError(SYSTEM, detail)
        if status == 403 or code in ROOM_GONE:
            raise (ChannelGone if endpoint in ROOM_ENDPOINTS else PermanentError)(SYSTEM, detail)
        if code in NOT_FOUND or (status == 400 and not error) or status == 404:
            raise NotFound(SYSTEM, detail)
        if status == 200:  # a 200 without success:true is a body hygiene cannot read
            last.append("malformed response body (no success flag)")
            raise Unsure(last[-1])
        raise PermanentError(SYSTEM, detail)

    def _wait(self, endpoint: str, response: requests.Response, body: Any) -> None:
        """Honour a 429: sleep a short wait out (then retry: nothing was done), defer a long one."""
        wait = self._reset_in(response, body)
        if wait > self.max_retry_after or not self.sleep_budget.allows(wait):
            reason = f"rate limited for {wait:.0f}s; left for the next cycle"
            self.budget.close(endpoint, reason)
            raise RateLimited(SYSTEM, f"{endpoint}: {reason}", wait)
        log.info("rocketchat.rate_limited", endpoint=endpoint, wait=wait)
        self.sleep_budget.sleep(wait)
        raise Retry(f"rate limited (X-RateLimit-Reset in {wait:.0f}s)")

    def _reset_in(self, response: requests.Response, body: Any) -> float:
        """Seconds until the window reopens: ``X-RateLimit-Reset`` (epoch ms), else the body's
        "You must wait N seconds", else one second."""
        reset = response.headers.get("X-RateLimit-Reset", "")
        try:
            return max(0.0, float(reset) / 1000 - self.clock.now().timestamp())
        except ValueError:
            pass
        found = WAIT_SECONDS.search(_error(body)[0])
        return float(found.group(1)) if found else 1.0


def _param(value: Any) -> str:
    """A query value as Rocket.Chat reads it (booleans as ``true``/``false``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _error(body: Any) -> tuple[str, str]:
    """The failure's text (cut short) and code: ``errorType``, else the ``[code]`` Meteor appends."""
    if not isinstance(body, dict):
        return "", ""
    error = body.get("error") if isinstance(body.get("error"), str) else body.get("message")
    text = error if isinstance(error, str) else ""
    code = body.get("errorType") if isinstance(body.get("errorType"), str) else ""
    if not code and (found := re.search(r"\[([\w-]+)\]$", text)):
        code = found.group(1)
    return text[:160], str(code)
