"""Slack's Web API through slack-sdk's ``WebClient``, under one call budget and one retry policy.

Every call goes through :meth:`SlackClient.call`, which spends the per-cycle budget of its method
and follows the shared retry policy (connectors/retry.py): reads are retried on 5xx, timeouts,
connection errors and malformed bodies with backoff and jitter; a write (``chat.postMessage`` …)
is never re-sent after such a failure — it may have been carried out — and raises
:class:`~hygiene.errors.OutcomeUnknown`, so the outbox looks for it by its key first. A 429's
``Retry-After`` is waited out when it is short and fits the cycle's sleep cap, otherwise the
method is left for the next cycle — a cycle never sleeps its time away. Slack's error codes
become typed errors here (transient, permanent, channel gone …) naming Slack, the method and the
cause (DNS, refused, TLS, HTTP status), never the token.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any
from urllib.error import URLError
from urllib.parse import urlparse

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from connectors.budget import CallBudget
from connectors.retry import Retry, SleepBudget, SleepCapReached, Unsure, connection_cause, retrying
from hygiene.clock import Clock
from hygiene.errors import (
    AlreadyDone,
    AuthError,
    BudgetExhausted,
    ChannelGone,
    NotFound,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)

log = structlog.get_logger("hygiene.slack")

AUTH_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
}
NON_JSON = "Received a response in a non-JSON format"
WRITES = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete", "reactions.add"})
"""Methods never re-sent blind after a failure that may have carried them out."""
CHANNEL_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


class SlackClient:
    """Slack calls with a per-cycle budget, retries and typed errors."""

    def __init__(
        self,
        client: WebClient,
        clock: Clock,
        budget: CallBudget,
        *,
        retries: int = 3,
        max_retry_after: float = 10,
        sleep_cap: float = 60,
    ) -> None:
        self.client = client
        self.budget = budget
        self.sleep_budget = SleepBudget(clock.sleep, sleep_cap)
        self.host = urlparse(str(client.base_url)).hostname or ""
        self.retries = retries
        self.max_retry_after = max_retry_after

    def call(self, method: str, **kwargs: Any) -> SlackResponse:
        """One Slack call under the shared retry policy: a write is never re-sent after a failure
        that may have carried it out (it raises :class:`OutcomeUnknown`)."""
        function: Callable[..., SlackResponse] = getattr(self.client, method.replace(".", "_"))
        safe = method not in WRITES
        last: list[str] = []
        try:
            for attempt in retrying(self.retries, self.sleep_budget, idempotent=safe):
                with attempt:
                    self._spend(method, last)
                    return self._attempt(method, function, kwargs, last)
        except Unsure as exc:
            if not safe:
                raise OutcomeUnknown("slack", f"{method}: {exc}; it may have been carried out") from None
            raise TransientError("slack", f"{method}: {exc} (gave up after {self.retries + 1} attempts)") from None
        except Retry as exc:
            raise TransientError("slack", f"{method}: {exc} (gave up after {self.retries + 1} attempts)") from None
        except SleepCapReached as exc:
            self.budget.close(method, str(exc))
            raise BudgetExhausted(method, f"{exc}; left for the next cycle") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def _spend(self, method: str, last: list[str]) -> None:
        """Spend a call of the budget; when retries spent it, the error names what went wrong."""
        try:
            self.budget.spend(method)
        except BudgetExhausted:
            if last:
                raise TransientError("slack", f"{method}: {last[-1]} (Slack unreachable)") from None
            raise

    def _attempt(
        self, method: str, function: Callable[..., SlackResponse], kwargs: dict[str, Any], last: list[str]
    ) -> SlackResponse:
        try:
            return function(**kwargs)
        except SlackApiError as exc:
            return self._api_error(method, exc)
        except (URLError, OSError) as exc:
            cause = connection_cause(exc, self.host)
            last.append(cause)
            raise Unsure(cause) from None

    def _api_error(self, method: str, exc: SlackApiError) -> SlackResponse:
        response = exc.response
        error = str(response.get("error", "")) if isinstance(response.data, dict) else ""
        if response.status_code == 429:
            retry_after = float(response.headers.get("Retry-After", response.headers.get("retry-after", 1)))
            if retry_after > self.max_retry_after or not self.sleep_budget.allows(retry_after):
                self.budget.close(method, f"rate limited for {retry_after:.0f}s; left for the next cycle")
                raise BudgetExhausted(method, f"rate limited for {retry_after:.0f}s") from None
            log.info("slack.rate_limited", method=method, retry_after=retry_after)
            self.sleep_budget.sleep(retry_after)
            raise Retry(f"rate limited (Retry-After {retry_after:.0f}s)") from None
        if response.status_code >= 500 or response.status_code == 408:
            raise Unsure(f"HTTP {response.status_code}") from None
        if error.startswith(NON_JSON):
            raise Unsure("malformed response body (not JSON)") from None
        if error in AUTH_ERRORS:
            raise AuthError("slack", f"{method}: {error} (check the bot token and its scopes)") from None
        detail = error or f"HTTP {response.status_code}"
        if error in CHANNEL_GONE:
            raise ChannelGone("slack", f"{method}: {detail}") from None
        if error.startswith("already_"):
            raise AlreadyDone("slack", f"{method}: {detail}") from None
        if error.endswith("_not_found"):
            raise NotFound("slack", f"{method}: {detail}") from None
        if error in ("ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"):
            raise Unsure(detail) from None
        raise PermanentError("slack", f"{method}: {detail}") from None

    def calls(self) -> dict[str, int]:
        return dict(self.budget.used)

    def pages(self, method: str, key: str, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        cursor: str | None = None
        while True:
            response = self.call(method, cursor=cursor, **kwargs)  # slack-sdk drops a None cursor
            data = response.data if isinstance(response.data, dict) else {}
            items = data.get(key)
            if not isinstance(items, list):
                raise TransientError("slack", f"{method}: response has no '{key}' list (malformed body)")
            yield items
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return
