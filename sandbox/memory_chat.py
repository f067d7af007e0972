"""An in-memory chat: a complete :class:`hygiene.ports.Chat` for fast engine tests, with no HTTP.

People post, edit, delete and react through its seeding methods; hygiene reads and writes through
the chat port, exactly as it does with Slack. It owns its bookmark (the newest top-level message
read, each thread's newest-reply marker, the threads hygiene answered in), honours the read window
(rescan and backfill), and marks hygiene's own posts ``ours`` with their outbox key, so a post of
unknown outcome is found again. Failures are injected per method (:meth:`MemoryChat.fail`) as the
typed errors of :mod:`hygiene.errors`, so tests drive the same failure paths as with Slack.

Ids are unique and time-ordered: the moment in zero-padded microseconds, bumped past any id used.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from hygiene.clock import Clock
from hygiene.errors import (
    AuthError,
    BudgetExhausted,
    ChannelGone,
    ConfigError,
    ExternalError,
    HygieneError,
    NotFound,
    OutcomeUnknown,
    PermanentError,
)
from hygiene.models import Action, ActionKind, ChatMessage
from hygiene.ports import Capabilities, ChannelFetch, ChannelInfo, ReadWindow

CAPABILITIES = Capabilities(
    threads=True,
    reactions=True,
    direct_messages=True,
    ephemeral=True,
    buttons=False,
    internal_notes_only=False,
    finds_own_posts=True,
)
MENTION = re.compile(r"<@([UW][A-Z0-9]+)>")
"""A mention in a posted text (the memory chat writes them as Slack does)."""
METHODS = ("connect", "resolve", "history", "replies", "send", "find_posted", "permalink", "user_by_email")
"""The methods :meth:`MemoryChat.calls` counts and :meth:`MemoryChat.fail` can make fail."""


@dataclass
class Stored:
    """One message as the chat holds it (replies point at their root by ``thread_id``)."""

    channel: str
    id: str
    at: datetime
    user: str
    text: str
    thread_id: str | None = None
    edited_at: datetime | None = None
    reactions: dict[str, list[str]] = field(default_factory=dict)
    key: str | None = None
    """The outbox key of hygiene's own post (None for a person's)."""
    system: str | None = None


@dataclass
class Fault:
    """A failure waiting for the next ``times`` calls of a method; ``lands`` carries a write out first."""

    error: HygieneError
    times: int = 1
    lands: bool = False


@dataclass(frozen=True)
class Received:
    """One write the chat carried out for hygiene, as the platform saw it: ``kind`` is
    ``thread_reply``, ``message``, ``dm``, ``ephemeral`` (only ``user`` saw it; never readable
    back through the port) or ``reaction`` (``text`` is the emoji)."""

    kind: str
    channel: str
    id: str | None
    thread_id: str | None
    text: str
    key: str | None = None
    user: str | None = None


class MemoryChat:
    """A chat held in memory, read and written through the chat port."""

    capabilities = CAPABILITIES

    def __init__(
        self,
        clock: Clock,
        *,
        source: str = "slack",
        bot_user_id: str = "UHYGIENE",
        users: Mapping[str, tuple[str, bool]] | None = None,
        budget: Mapping[str, int] | None = None,
    ) -> None:
        self.clock = clock
        self.source = source
        self.display_name = "Memory"
        self._bot = bot_user_id
        self._bot_user_id = ""
        self.people: dict[str, tuple[str, bool]] = {bot_user_id: ("hygiene", True)}
        self.emails: dict[str, str] = {}
        self.known: dict[str, tuple[str, bool]] = dict(users or {})
        self.new_users: dict[str, tuple[str, bool]] = {}
        self.channels: dict[str, ChannelInfo] = {}
        self.members: dict[str, bool] = {}
        self.messages: dict[str, dict[str, Stored]] = {}
        self.received: list[Received] = []
        self.faults: dict[str, list[Fault]] = {}
        self.budget = dict(budget or {})
        self._calls: Counter[str] = Counter()
        self._used: set[int] = set()
        self._last = 0

    # the world: channels, people and what they do ---------------------------------------------
    def add_channel(self, channel_id: str, name: str, *, member: bool = True) -> ChannelInfo:
        """A channel hygiene can see (``member=False``: it exists but hygiene was not invited)."""
        info = ChannelInfo(id=channel_id, name=name)
        self.channels[channel_id] = info
        self.members[channel_id] = member
        self.messages.setdefault(channel_id, {})
        return info

    def add_user(self, user_id: str, name: str, *, email: str = "", is_bot: bool = False) -> None:
        self.people[user_id] = (name, is_bot)
        if email:
            self.emails[email.lower()] = user_id

    def post(
        self,
        user: str,
        channel: str,
        text: str,
        thread_id: str | None = None,
        at: datetime | None = None,
        *,
        system: str | None = None,
    ) -> str:
        """A person posts (in a thread when ``thread_id``, at ``at`` or now); returns the message id."""
        channel_id = self._channel_id(channel)
        if thread_id is not None and thread_id not in self.messages[channel_id]:
            raise KeyError(f"no thread {thread_id} in {channel}")
        message = Stored(channel_id, self._new_id(at), at or self.clock.now(), user, text, thread_id, system=system)
        self.messages[channel_id][message.id] = message
        return message.id

    def edit(self, channel: str, message_id: str, text: str) -> None:
        message = self._stored(channel, message_id)
        message.text, message.edited_at = text, self.clock.now()

    def delete(self, channel: str, message_id: str) -> None:
        """Remove a message (a root's replies stay, as on Slack, under a root no longer listed)."""
        del self.messages[self._channel_id(channel)][message_id]

    def react(self, channel: str, message_id: str, user: str, emoji: str) -> bool:
        """Add ``user``'s reaction; False when it was already there."""
        users = self._stored(channel, message_id).reactions.setdefault(emoji, [])
        if user in users:
            return False
        users.append(user)
        return True

    def archive(self, channel: str) -> None:
        """The channel is gone: every later read or write in it fails with ChannelGone."""
        channel_id = self._channel_id(channel)
        del self.channels[channel_id]
        self.members.pop(channel_id, None)

    def fail(self, method: str, error: HygieneError, times: int = 1, *, lands: bool = False) -> None:
        """Make the next ``times`` calls of ``method`` (one of :data:`METHODS`) raise ``error``;
        ``lands``: a write is carried out before it fails (an OutcomeUnknown whose post arrived)."""
        if method not in METHODS:
            raise ValueError(f"unknown method {method!r} (known: {', '.join(METHODS)})")
        self.faults.setdefault(method, []).append(Fault(error, times, lands))

    def thread_ids(self, channel: str) -> list[str]:
        """The ids of the channel's live top-level messages, oldest first."""
        return sorted(m.id for m in self.messages[self._channel_id(channel)].values() if m.thread_id is None)

    # identity and channels ----------------------------------------------------------------------
    @property
    def bot_user_id(self) -> str:
        return self._bot_user_id

    def connect(self, identity: Mapping[str, str] | None = None) -> dict[str, str]:
        """Who hygiene is; a cached identity saves the call."""
        if not identity:
            self._enter("connect")
            identity = {"user_id": self._bot}
        self._bot_user_id = identity["user_id"]
        return dict(identity)

    def resolve_channels(
        self, wanted: Sequence[str], paths: Sequence[str] | None = None, *, need_member: bool = True
    ) -> list[ChannelInfo]:
        """The channels named or id'd in ``wanted``; a ConfigError names each unknown one by its key
        path (``paths``, default ``chat.channels[i]``), and each one hygiene was not invited to."""
        self._enter("resolve")
        problems: list[str] = []
        found: list[ChannelInfo] = []
        for index, item in enumerate(wanted):
            path = paths[index] if paths else f"chat.channels[{index}]"
            channel_id = self.channel_id(item)
            if channel_id is None:
                problems.append(f'{path}: unknown channel "{item}"')
            elif need_member and not self.members[channel_id]:
                problems.append(f"{path}: hygiene is not a member of #{self.channels[channel_id].name}")
            else:
                found.append(self.channels[channel_id])
        if problems:
            raise ConfigError(problems)
        return found

    def channel_id(self, name_or_id: str) -> str | None:
        name = name_or_id.lstrip("#")
        if name in self.channels:
            return name
        return next((c.id for c in self.channels.values() if c.name == name), None)

    def calls(self) -> dict[str, int]:
        return dict(self._calls)

    def learned_users(self) -> dict[str, tuple[str, bool]]:
        return dict(self.new_users)

    # reading ------------------------------------------------------------------------------------
    def fetch(self, channel: ChannelInfo, state: Mapping[str, Any], window: ReadWindow) -> ChannelFetch:
        """Top-level messages from the bookmark (at least the rescan window, never before the
        backfill limit), and the replies of threads that moved or that hygiene answered in."""
        start = _start(state, window)
        result = ChannelFetch(channel=channel, covered_from=start)
        seen: Mapping[str, str | None] = state.get("threads") or {}
        answered = set(state.get("answered") or ())
        try:
            result.messages.extend(self._history(channel, start))
            for root in [m for m in result.messages if m.reply_count and m.latest_reply]:
                if root.id in answered or seen.get(root.id) != root.latest_reply:
                    result.messages.extend(self._replies(channel, root.id))
                    result.threads_read.add(root.id)
        except AuthError:
            raise
        except (BudgetExhausted, ExternalError) as exc:
            result.complete, result.error = False, exc
            return result
        result.state = _bookmark(state, start, result.messages)
        return result

    def _history(self, channel: ChannelInfo, start: datetime) -> list[ChatMessage]:
        self._enter("history")
        stored = self._live(channel.id).values()
        return [self._message(m) for m in sorted(stored, key=lambda m: m.id) if m.thread_id is None and m.at >= start]

    def _replies(self, channel: ChannelInfo, root_id: str) -> list[ChatMessage]:
        self._enter("replies")
        return [self._message(m) for m in self._thread(channel.id, root_id)]

    def _live(self, channel_id: str) -> dict[str, Stored]:
        if channel_id not in self.channels:
            raise ChannelGone(self.source, f"channel {channel_id} not found")
        if not self.members[channel_id]:
            raise ChannelGone(self.source, f"not in channel {self.channels[channel_id].name}")
        return self.messages[channel_id]

    def _thread(self, channel_id: str, root_id: str) -> list[Stored]:
        return sorted((m for m in self._live(channel_id).values() if m.thread_id == root_id), key=lambda m: m.id)

    def _message(self, stored: Stored) -> ChatMessage:
        """The port's view of a stored message (roots carry their live reply count and newest reply)."""
        replies = [] if stored.thread_id else self._thread(stored.channel, stored.id)
        name, is_bot = self._person(stored.user)
        return ChatMessage(
            channel=stored.channel,
            id=stored.id,
            at=stored.at,
            text=stored.text,
            plain=stored.text,
            source=self.source,
            user=stored.user,
            user_name=name,
            channel_name=self.channels[stored.channel].name,
            thread_id=stored.thread_id or (stored.id if replies else None),
            system=stored.system,
            is_bot=is_bot or stored.key is not None,
            edited_at=stored.edited_at,
            reply_count=len(replies),
            latest_reply=replies[-1].id if replies else None,
            reactions=tuple((emoji, tuple(users)) for emoji, users in stored.reactions.items() if users),
            ours=stored.key is not None,
            mentions=tuple(dict.fromkeys(MENTION.findall(stored.text))),
            extras={"key": stored.key} if stored.key else {},
        )

    def _person(self, user_id: str) -> tuple[str, bool]:
        """A poster's name and bot flag; one not known at build time is learned (for the store's cache)."""
        if user_id in self.known:
            return self.known[user_id]
        entry = self.people.get(user_id, (user_id, False))
        self.known[user_id] = self.new_users[user_id] = entry
        return entry

    # writing ------------------------------------------------------------------------------------
    def send(self, action: Action) -> str | None:
        """Carry out a post, reply, DM, ephemeral or reaction; the new message's id for a post."""
        fault = self._enter("send")
        posted = self._carry_out(action)
        if fault is not None:
            raise fault.error
        return posted

    def _carry_out(self, action: Action) -> str | None:
        if action.kind == ActionKind.REACTION:
            self._react(action)
            return None
        if action.kind == ActionKind.EPHEMERAL:
            self._live(action.channel)
            self.received.append(
                Received("ephemeral", action.channel, None, action.thread_id, action.text, action.key, action.user)
            )
            return None
        if action.kind == ActionKind.CREATE_TICKET:
            raise PermanentError(self.source, "a chat cannot create a ticket")
        channel = self._dm_channel(action.user) if action.kind == ActionKind.DM else action.channel
        thread = action.thread_id if action.kind == ActionKind.THREAD_REPLY else None
        live = self._live(channel)
        if thread is not None and thread not in live:
            raise NotFound(self.source, f"thread {thread} not found in {channel}")
        message = Stored(channel, self._new_id(None), self.clock.now(), self._bot, action.text, thread, key=action.key)
        live[message.id] = message
        kind = "dm" if action.kind == ActionKind.DM else ("thread_reply" if thread else "message")
        self.received.append(Received(kind, channel, message.id, thread, action.text, action.key, action.user))
        return message.id

    def _react(self, action: Action) -> None:
        message = self._live(action.channel).get(action.thread_id or "")
        if message is None:
            raise NotFound(self.source, f"message {action.thread_id} not found in {action.channel}")
        users = message.reactions.setdefault(action.emoji or "", [])
        if self._bot not in users:
            users.append(self._bot)
            self.received.append(Received("reaction", action.channel, None, message.id, action.emoji or ""))

    def _dm_channel(self, user: str | None) -> str:
        if not user:
            raise PermanentError(self.source, "a direct message needs a user")
        if user not in self.people:
            raise NotFound(self.source, f"user {user} not found")
        channel_id = "D" + user
        if channel_id not in self.channels:
            self.add_channel(channel_id, channel_id)
        return channel_id

    def find_posted(self, action: Action, since: datetime) -> str | None:
        """The id of hygiene's post carrying ``action``'s key since ``since``; never for an ephemeral
        or a reaction (they cannot be read back)."""
        if action.kind in (ActionKind.EPHEMERAL, ActionKind.REACTION):
            return None
        self._enter("find_posted")
        channel = self._dm_channel(action.user) if action.kind == ActionKind.DM else action.channel
        thread = action.thread_id if action.kind == ActionKind.THREAD_REPLY else None
        found = [
            m for m in self._live(channel).values() if m.key == action.key and m.thread_id == thread and m.at >= since
        ]
        return min(found, key=lambda m: m.id).id if found else None

    def user_by_email(self, email: str) -> str | None:
        self._enter("user_by_email")
        return self.emails.get(email.lower())

    def permalink(self, channel: str, message_id: str) -> str | None:
        self._enter("permalink")
        if message_id not in self.messages.get(channel, {}):
            return None
        return f"memory://{self.source}/{channel}/{message_id}"

    # plumbing -----------------------------------------------------------------------------------
    def _enter(self, method: str) -> Fault | None:
        """Count a call, spend its budget and raise an injected fault; a fault that ``lands`` is
        returned instead, for the write to raise once it is carried out."""
        used = self.budget.get(method)
        if used is not None and self._calls[method] >= used:
            raise BudgetExhausted(method, f"call budget of {used} per cycle spent")
        self._calls[method] += 1
        queue = self.faults.get(method) or []
        if not queue:
            return None
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        if fault.lands and isinstance(fault.error, OutcomeUnknown):
            return fault
        raise fault.error

    def _new_id(self, at: datetime | None) -> str:
        """A unique id that sorts as its moment does (fixed width, so text order is time order)."""
        micros = round((at or self.clock.now()).timestamp() * 1_000_000)
        if at is None:
            micros = max(micros, self._last + 1)
        while micros in self._used:
            micros += 1
        self._used.add(micros)
        self._last = max(self._last, micros)
        return f"{micros:017d}"

    def _channel_id(self, name_or_id: str) -> str:
        channel_id = self.channel_id(name_or_id)
        if channel_id is None:
            raise KeyError(name_or_id)
        return channel_id

    def _stored(self, channel: str, message_id: str) -> Stored:
        return self.messages[self._channel_id(channel)][message_id]


def _start(state: Mapping[str, Any], window: ReadWindow) -> datetime:
    """Where a read starts: the rescan window or the bookmark, whichever is older, never before backfill."""
    start = window.rescan_from
    newest = state.get("newest_at")
    if newest:
        start = min(start, datetime.fromisoformat(str(newest)))
    return max(start, window.backfill_from)


def _bookmark(state: Mapping[str, Any], start: datetime, messages: list[ChatMessage]) -> dict[str, Any]:
    """The newest top-level moment read, each thread's newest-reply marker, and the threads hygiene
    answered in (read again every time, so a reaction on hygiene's reply is seen)."""
    tops = [m for m in messages if not m.is_reply]
    moments = [m.at for m in tops]
    if state.get("newest_at"):
        moments.append(datetime.fromisoformat(str(state["newest_at"])))
    newest = max(moments, default=start).astimezone(UTC)
    threads = {m.id: m.latest_reply for m in tops if m.reply_count and m.latest_reply}
    answered = sorted({m.root_id for m in messages if m.ours and m.is_reply})
    return {"newest_at": newest.isoformat(), "threads": threads, "answered": answered}
