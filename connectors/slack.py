"""Slack through slack-sdk's ``WebClient``: incremental history, thread replies, posting.

Every call goes through :meth:`SlackChat._call`, which spends the per-cycle budget of its method
and follows the shared retry policy (connectors/retry.py): reads are retried on 5xx, timeouts,
connection errors and malformed bodies with backoff and jitter; a write (``chat.postMessage`` …)
is never re-sent after such a failure — it may have been carried out — and raises
:class:`~hygiene.errors.OutcomeUnknown`, so the outbox looks for it by its key first. A 429's
``Retry-After`` is waited out when it is short and fits the cycle's sleep cap, otherwise the
method is left for the next cycle — a cycle never sleeps its time away. Errors are typed
(transient, permanent, channel gone …), name Slack, the method and the cause (DNS, refused,
TLS, HTTP status), never the token.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.error import URLError
from urllib.parse import urlparse

import structlog
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from slack_sdk.web import SlackResponse

from connectors.retry import Retry, SleepBudget, SleepCapReached, Unsure, connection_cause, retrying
from connectors.slack_messages import to_chat_message
from hygiene.clock import Clock
from hygiene.errors import (
    AlreadyDone,
    AuthError,
    BudgetExhausted,
    ChannelGone,
    ConfigError,
    ExternalError,
    NotFound,
    OutcomeUnknown,
    PermanentError,
    TransientError,
)
from hygiene.models import Action, ActionKind, ChatMessage
from hygiene.ports import ChannelFetch, ChannelInfo

log = structlog.get_logger("hygiene.slack")

AUTH_ERRORS = {
    "invalid_auth",
    "not_authed",
    "account_inactive",
    "token_revoked",
    "token_expired",
    "missing_scope",
}
CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
METADATA_EVENT = "hygiene_action"
NON_JSON = "Received a response in a non-JSON format"
WRITES = frozenset({"chat.postMessage", "chat.postEphemeral", "chat.update", "chat.delete", "reactions.add"})
"""Methods never re-sent blind after a failure that may have carried them out."""
CHANNEL_GONE = frozenset({"channel_not_found", "not_in_channel", "is_archived"})


class CallBudget:
    """Calls allowed per Slack method in one cycle; methods rate-limited for long are closed."""

    def __init__(self, limits: Mapping[str, int]) -> None:
        self.limits = dict(limits)
        self.used: dict[str, int] = {}
        self.closed: dict[str, str] = {}

    def spend(self, method: str) -> None:
        if method in self.closed:
            raise BudgetExhausted(method, self.closed[method])
        used = self.used.get(method, 0)
        if used >= self.limits.get(method, 10):
            raise BudgetExhausted(method, f"call budget of {self.limits.get(method, 10)} per cycle spent")
        self.used[method] = used + 1

    def close(self, method: str, reason: str) -> None:
        self.closed[method] = reason


class SlackChat:
    """The :class:`~hygiene.ports.Chat` for Slack."""

    def __init__(
        self,
        client: WebClient,
        clock: Clock,
        budget: CallBudget,
        *,
        retries: int = 3,
        max_retry_after: float = 10,
        page_size: int = 200,
        users: Mapping[str, tuple[str, bool]] | None = None,
        sleep_cap: float = 60,
    ) -> None:
        self.client = client
        self.clock = clock
        self.budget = budget
        self.sleep_budget = SleepBudget(clock.sleep, sleep_cap)
        self.host = urlparse(str(client.base_url)).hostname or ""
        self.retries = retries
        self.max_retry_after = max_retry_after
        self.page_size = page_size
        self.users: dict[str, tuple[str, bool]] = dict(users or {})
        self.new_users: dict[str, tuple[str, bool]] = {}
        self.bot_user_id = ""
        self._channels: list[dict[str, Any]] | None = None

    # calls ---------------------------------------------------------------------------------
    def _call(self, method: str, **kwargs: Any) -> SlackResponse:
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

    def learned_users(self) -> dict[str, tuple[str, bool]]:
        return dict(self.new_users)

    def _pages(self, method: str, key: str, **kwargs: Any) -> Iterator[list[dict[str, Any]]]:
        cursor: str | None = None
        while True:
            response = self._call(method, cursor=cursor, **kwargs)  # slack-sdk drops a None cursor
            data = response.data if isinstance(response.data, dict) else {}
            items = data.get(key)
            if not isinstance(items, list):
                raise TransientError("slack", f"{method}: response has no '{key}' list (malformed body)")
            yield items
            cursor = (data.get("response_metadata") or {}).get("next_cursor") or None
            if not cursor:
                return

    # identity and channels -------------------------------------------------------------------
    def connect(self, identity: Mapping[str, str] | None = None) -> dict[str, str]:
        """Learn who the bot is (``auth.test``), unless a recently cached identity is given."""
        if not identity:
            data = self._call("auth.test").data
            assert isinstance(data, dict)
            identity = {"user_id": str(data.get("user_id", ""))}
        self.bot_user_id = identity["user_id"]
        return dict(identity)

    def _directory(self) -> list[dict[str, Any]]:
        """Every channel the bot can see (``conversations.list``), read once per cycle."""
        if self._channels is None:
            found: list[dict[str, Any]] = []
            for page in self._pages(
                "conversations.list",
                "channels",
                types="public_channel,private_channel",
                exclude_archived=True,
                limit=1000,
            ):
                found.extend(page)
            self._channels = found
        return self._channels

    def resolve_channels(
        self, wanted: Sequence[str], paths: Sequence[str] | None = None, *, need_member: bool = True
    ) -> list[ChannelInfo]:
        """Channel names or ids to channels the bot can read; unknown ones are config errors.

        ``paths`` names each item's setting (default ``slack.channels[i]``); ``need_member=False``
        only asks that the channel exists (exempt channels, report channels).
        """
        by_name = {str(channel.get("name", "")): channel for channel in self._directory()}
        by_id = {str(channel.get("id", "")): channel for channel in self._directory()}
        resolved: list[ChannelInfo] = []
        problems: list[str] = []
        for index, item in enumerate(wanted):
            path = paths[index] if paths else f"slack.channels[{index}]"
            found = by_id.get(item) if CHANNEL_ID.match(item) else by_name.get(item)
            if found is None:
                kind = "id" if CHANNEL_ID.match(item) else "name"
                problems.append(f'{path}: unknown channel {kind} "{item}"')
            elif need_member and found.get("is_member") is False:
                problems.append(
                    f"{path}: the bot is not a member of #{found['name']} (invite it with /invite @hygiene)"
                )
            else:
                resolved.append(ChannelInfo(id=str(found["id"]), name=str(found["name"])))
        if problems:
            raise ConfigError(problems)
        return resolved

    # reading -------------------------------------------------------------------------------
    def fetch(self, channel: ChannelInfo, oldest: str, known_threads: Mapping[str, str | None]) -> ChannelFetch:
        """Messages since ``oldest`` and the replies of threads whose latest reply changed.

        A failure other than refused credentials ends the read and says so in the result (the
        engine then keeps the channel's cursor); an AuthError ends the cycle.
        """
        result = ChannelFetch(channel=channel)
        try:
            for page in self._pages(
                "conversations.history",
                "messages",
                channel=channel.id,
                oldest=oldest,
                limit=self.page_size,
                include_all_metadata=True,
            ):
                result.messages.extend(self.normalize(raw, channel) for raw in page)
            for root in [m for m in result.messages if m.reply_count and m.latest_reply]:
                if root.ts in known_threads and known_threads[root.ts] == root.latest_reply:
                    continue
                result.messages.extend(self.replies(channel, root.ts))
                result.threads_read.add(root.ts)
        except AuthError:
            raise
        except (BudgetExhausted, ExternalError) as exc:
            result.complete, result.error, result.deferred = False, str(exc), isinstance(exc, BudgetExhausted)
            result.gone = isinstance(exc, ChannelGone)
        return result

    def replies(self, channel: ChannelInfo, thread_ts: str, oldest: str | None = None) -> list[ChatMessage]:
        kwargs: dict[str, Any] = {"channel": channel.id, "ts": thread_ts, "limit": self.page_size}
        if oldest:
            kwargs["oldest"] = oldest
        found: list[ChatMessage] = []
        for page in self._pages("conversations.replies", "messages", include_all_metadata=True, **kwargs):
            found.extend(self.normalize(raw, channel) for raw in page if raw.get("ts") != thread_ts)
        return found

    def normalize(self, raw: dict[str, Any], channel: ChannelInfo) -> ChatMessage:
        return to_chat_message(raw, channel, self._user, self.bot_user_id)

    def _user(self, user_id: str) -> tuple[str, bool]:
        if user_id in self.users:
            return self.users[user_id]
        try:
            data = self._call("users.info", user=user_id).data
        except (BudgetExhausted, ExternalError):
            return (user_id, False)
        assert isinstance(data, dict)
        user = data.get("user") or {}
        profile = user.get("profile") or {}
        name = profile.get("display_name") or user.get("name") or user_id
        entry = (str(name), bool(user.get("is_bot") or user.get("is_app_user")))
        self.users[user_id] = self.new_users[user_id] = entry
        return entry

    # writing -------------------------------------------------------------------------------
    def send(self, action: Action) -> str | None:
        """Carry out one action; returns the posted message's ts when there is one."""
        if action.kind == ActionKind.REACTION:
            with contextlib.suppress(AlreadyDone):
                self._call("reactions.add", channel=action.channel, timestamp=action.thread_ts, name=action.emoji)
            return None
        if action.kind == ActionKind.EPHEMERAL:
            self._call(
                "chat.postEphemeral",
                channel=action.channel,
                user=action.user,
                text=action.text,
                thread_ts=action.thread_ts,
            )
            return None
        channel = self._dm_channel(action.user) if action.kind == ActionKind.DM else action.channel
        data = self._call(
            "chat.postMessage",
            channel=channel,
            thread_ts=action.thread_ts if action.kind == ActionKind.THREAD_REPLY else None,
            text=action.text,
            blocks=json.loads(action.blocks) if action.blocks else None,
            unfurl_links=False,
            metadata={
                "event_type": METADATA_EVENT,
                "event_payload": {"key": action.key, "rule": action.rule or ""},
            },
        ).data
        assert isinstance(data, dict)
        return str(data.get("ts"))

    def find_posted(self, action: Action, since_ts: str) -> str | None:
        """The ts of a message we already posted for ``action`` (looked up by metadata), if any."""
        if action.kind in (ActionKind.EPHEMERAL, ActionKind.REACTION):
            return None
        if action.kind == ActionKind.THREAD_REPLY and action.thread_ts:
            pages = self._pages(
                "conversations.replies",
                "messages",
                channel=action.channel,
                ts=action.thread_ts,
                oldest=since_ts,
                include_all_metadata=True,
                limit=self.page_size,
            )
        else:
            channel = self._dm_channel(action.user) if action.kind == ActionKind.DM else action.channel
            pages = self._pages(
                "conversations.history",
                "messages",
                channel=channel,
                oldest=since_ts,
                include_all_metadata=True,
                limit=self.page_size,
            )
        for page in pages:
            for raw in page:
                metadata = raw.get("metadata") or {}
                if (metadata.get("event_payload") or {}).get("key") == action.key:
                    return str(raw.get("ts"))
        return None

    def user_by_email(self, email: str) -> str | None:
        """The Slack user id for an e-mail (``users.lookupByEmail``), None when nobody has it."""
        try:
            data = self._call("users.lookupByEmail", email=email).data
        except NotFound:
            return None
        assert isinstance(data, dict)
        return str((data.get("user") or {}).get("id") or "") or None

    def channel_id(self, name_or_id: str) -> str | None:
        """A channel's id from its name (or id)."""
        name = name_or_id.lstrip("#")
        if CHANNEL_ID.match(name):
            return name
        return next((str(c["id"]) for c in self._directory() if c.get("name") == name), None)

    def permalink(self, channel: str, ts: str) -> str | None:
        data = self._call("chat.getPermalink", channel=channel, message_ts=ts).data
        return str(data.get("permalink")) if isinstance(data, dict) and data.get("permalink") else None

    def _dm_channel(self, user: str | None) -> str:
        if not user:
            raise PermanentError("slack", "a direct message needs a user")
        data = self._call("conversations.open", users=user).data
        assert isinstance(data, dict)
        return str((data.get("channel") or {}).get("id"))
