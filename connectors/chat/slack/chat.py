"""Slack as a chat hygiene reads and writes: the :class:`~hygiene.ports.Chat` for Slack.

Reading is incremental from a bookmark the connector owns: the newest top-level ``ts`` read, the
threads it has seen with the marker of their newest reply, and the threads hygiene answered in
(read again every cycle, so a reaction on hygiene's own reply is seen). Each read re-reads the
rescan window for edits, deletions and late replies, and never goes back past the backfill limit.
Posts carry Slack message metadata (``hygiene_action`` with the outbox key), which is how a post
of unknown outcome is found again instead of being sent twice.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import structlog

from connectors.chat.base import ChatConnector
from connectors.chat.slack.blocks import render_blocks
from connectors.chat.slack.client import SlackClient
from connectors.chat.slack.interactions import nudge_blocks
from connectors.chat.slack.messages import METADATA_EVENT, from_slack_ts, oldest_param, to_chat_message
from hygiene.errors import AlreadyDone, AuthError, BudgetExhausted, ConfigError, ExternalError, NotFound, PermanentError
from hygiene.models import Action, ActionKind, ChatMessage
from hygiene.ports import Capabilities, ChannelFetch, ChannelInfo, ReadWindow

log = structlog.get_logger("hygiene.slack")

CHANNEL_ID = re.compile(r"^[CGD][A-Z0-9]{6,}$")
CAPABILITIES = Capabilities(
    threads=True, reactions=True, direct_messages=True, ephemeral=True, buttons=True, push=True, finds_own_posts=True
)


class SlackChat(ChatConnector[SlackClient]):
    """Slack behind the chat port (reading and writing)."""

    capabilities = CAPABILITIES
    display_name = "Slack"

    def __init__(
        self,
        api: SlackClient,
        *,
        source: str = "slack",
        page_size: int = 200,
        users: Mapping[str, tuple[str, bool]] | None = None,
    ) -> None:
        self.api = api
        self.source = source
        self.page_size = page_size
        self.users: dict[str, tuple[str, bool]] = dict(users or {})
        self.new_users: dict[str, tuple[str, bool]] = {}
        self._bot_user_id = ""
        self._channels: list[dict[str, Any]] | None = None

    # identity and channels -------------------------------------------------------------------
    def connect(self, identity: Mapping[str, str] | None = None) -> dict[str, str]:
        """Learn who the bot is (``auth.test``), unless a recently cached identity is given."""
        if not identity:
            data = self.api.call("auth.test").data
            assert isinstance(data, dict)
            identity = {"user_id": str(data.get("user_id", ""))}
        self._bot_user_id = identity["user_id"]
        return dict(identity)

    def _directory(self) -> list[dict[str, Any]]:
        """Every channel the bot can see (``conversations.list``), read once per cycle."""
        if self._channels is None:
            found: list[dict[str, Any]] = []
            for page in self.api.pages(
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
    def fetch(self, channel: ChannelInfo, state: Mapping[str, Any], window: ReadWindow) -> ChannelFetch:
        """Messages since the bookmark (at least the rescan window), and the replies of threads
        whose newest reply changed or where hygiene answered.

        A failure other than refused credentials ends the read and says so in the result (the old
        bookmark is then kept); an AuthError ends the cycle.
        """
        start = self._start(channel, state, window)
        result = ChannelFetch(channel=channel, covered_from=start)
        seen_threads: dict[str, str | None] = dict(state.get("threads") or {})
        answered = set(state.get("answered") or ())
        try:
            for page in self._history(channel.id, oldest_param(start)):
                result.messages.extend(self._normalize(raw, channel) for raw in page)
            for root in [m for m in result.messages if m.reply_count and m.latest_reply]:
                if root.id not in answered and seen_threads.get(root.id) == root.latest_reply:
                    continue
                result.messages.extend(self.replies(channel, root.id))
                result.threads_read.add(root.id)
        except AuthError:
            raise
        except (BudgetExhausted, ExternalError) as exc:
            result.complete, result.error = False, exc
            return result
        result.state = self._bookmark(state, start, result.messages)
        return result

    def _start(self, channel: ChannelInfo, state: Mapping[str, Any], window: ReadWindow) -> datetime:
        """Where a read starts: the rescan window or the bookmark, whichever is older, but never
        before the backfill limit (a longer gap is skipped, and said)."""
        newest = state.get("newest")
        start = window.rescan_from
        if newest:
            start = min(start, from_slack_ts(str(newest)))
            if from_slack_ts(str(newest)) < window.backfill_from:
                log.warning("slack.gap_skipped", channel=channel.name, since=window.backfill_from.isoformat())
        return max(start, window.backfill_from)

    def _bookmark(self, state: Mapping[str, Any], start: datetime, messages: list[ChatMessage]) -> dict[str, Any]:
        """The newest top-level ts, each thread's newest-reply marker, and the threads hygiene answered in
        (from ``start`` on: older threads are out of every later read)."""
        tops = [m for m in messages if not m.is_reply]
        newest = max((m.id for m in tops), default=None)
        previous = state.get("newest")
        if previous and (newest is None or str(previous) > newest):
            newest = str(previous)
        threads = {m.id: m.latest_reply for m in tops if m.reply_count and m.latest_reply}
        answered = sorted({m.root_id for m in messages if m.ours and m.is_reply})
        return {"newest": newest or oldest_param(start), "threads": threads, "answered": answered}

    def _history(self, channel_id: str, oldest: str) -> Iterator[list[dict[str, Any]]]:
        """History from ``oldest`` on, that moment included (Slack's ``oldest`` is exclusive unless
        ``inclusive``): the read covers ``covered_from`` itself, so nothing there is taken for deleted."""
        return self.api.pages(
            "conversations.history",
            "messages",
            channel=channel_id,
            oldest=oldest,
            inclusive=True,
            limit=self.page_size,
            include_all_metadata=True,
        )

    def replies(self, channel: ChannelInfo, thread_id: str) -> list[ChatMessage]:
        found: list[ChatMessage] = []
        pages = self.api.pages(
            "conversations.replies",
            "messages",
            channel=channel.id,
            ts=thread_id,
            limit=self.page_size,
            include_all_metadata=True,
        )
        for page in pages:
            found.extend(self._normalize(raw, channel) for raw in page if raw.get("ts") != thread_id)
        return found

    def _normalize(self, raw: dict[str, Any], channel: ChannelInfo) -> ChatMessage:
        return to_chat_message(raw, channel, self._user, self._bot_user_id, self.source)

    def from_event(self, raw: dict[str, Any], channel: ChannelInfo) -> ChatMessage:
        """A message pushed over Socket Mode, read exactly as a history read would read it."""
        return self._normalize(raw, channel)

    def channel_name(self, channel_id: str) -> str:
        """A channel's name from the directory already read (its id when unknown)."""
        known = self._channels or []
        return next((str(c.get("name")) for c in known if c.get("id") == channel_id), channel_id)

    def _user(self, user_id: str) -> tuple[str, bool]:
        if user_id in self.users:
            return self.users[user_id]
        try:
            data = self.api.call("users.info", user=user_id).data
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
                self.api.call("reactions.add", channel=action.channel, timestamp=action.thread_id, name=action.emoji)
            return None
        if action.kind == ActionKind.EPHEMERAL:
            self.api.call(
                "chat.postEphemeral",
                channel=action.channel,
                user=action.user,
                text=action.text,
                thread_ts=action.thread_id,
            )
            return None
        if action.kind == ActionKind.EDIT:
            self.api.call(
                "chat.update",
                channel=action.channel,
                ts=action.target_id,
                text=action.text,
                blocks=nudge_blocks(action) or [],
            )
            return action.target_id
        channel = self._dm_channel(action.user) if action.kind == ActionKind.DM else action.channel
        data = self.api.call(
            "chat.postMessage",
            channel=channel,
            thread_ts=action.thread_id if action.kind == ActionKind.THREAD_REPLY else None,
            text=action.text,
            blocks=render_blocks(action.document) if action.document else nudge_blocks(action),
            unfurl_links=False,
            metadata={
                "event_type": METADATA_EVENT,
                "event_payload": {"key": action.key, "rule": action.rule or ""},
            },
        ).data
        assert isinstance(data, dict)
        return str(data.get("ts"))

    def find_posted(self, action: Action, since: datetime) -> str | None:
        """The ts of a message we already posted for ``action`` (looked up by metadata), if any."""
        if action.kind in (ActionKind.EPHEMERAL, ActionKind.REACTION):
            return None
        if action.kind == ActionKind.EDIT:
            return None  # an edit is idempotent: sending it again changes nothing
        if action.kind == ActionKind.THREAD_REPLY and action.thread_id:
            pages = self.api.pages(
                "conversations.replies",
                "messages",
                channel=action.channel,
                ts=action.thread_id,
                oldest=oldest_param(since),
                include_all_metadata=True,
                limit=self.page_size,
            )
        else:
            channel = self._dm_channel(action.user) if action.kind == ActionKind.DM else action.channel
            pages = self._history(channel, oldest_param(since))
        for page in pages:
            for raw in page:
                metadata = raw.get("metadata") or {}
                if (metadata.get("event_payload") or {}).get("key") == action.key:
                    return str(raw.get("ts"))
        return None

    def user_by_email(self, email: str) -> str | None:
        """The Slack user id for an e-mail (``users.lookupByEmail``), None when nobody has it."""
        try:
            data = self.api.call("users.lookupByEmail", email=email).data
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

    def permalink(self, channel: str, message_id: str) -> str | None:
        data = self.api.call("chat.getPermalink", channel=channel, message_ts=message_id).data
        return str(data.get("permalink")) if isinstance(data, dict) and data.get("permalink") else None

    def _dm_channel(self, user: str | None) -> str:
        if not user:
            raise PermanentError("slack", "a direct message needs a user")
        data = self.api.call("conversations.open", users=user).data
        assert isinstance(data, dict)
        return str((data.get("channel") or {}).get("id"))
