"""The chat port: what the core needs from a chat platform, and nothing platform-shaped.

Reading and writing are separate interfaces. A :class:`ChatSource` lists channels and reads
messages incrementally; a :class:`ChatSink` posts, reacts and finds its own earlier posts. A
platform states what it can do in :class:`Capabilities`, so a read-only source, or one whose only
write is an internal note, says so in its types and the core never asks it for more.

The connector owns its bookmark (Singer's pattern): ``fetch(channel, state, window)`` returns the
messages, the state to store once they are stored, and whether the read was complete. Failures are
typed (:mod:`hygiene.errors`): ``ChannelGone``, ``RateLimited``, ``TransientError``, …
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from hygiene.errors import BudgetExhausted, ChannelGone, ExternalError, RateLimited
from hygiene.models import Action, ChatMessage


@dataclass(frozen=True)
class Capabilities:
    """What a chat platform lets hygiene do."""

    threads: bool = True
    """Replies can go in a message's thread."""
    reactions: bool = True
    """Reactions can be read (:ticket:, 👎) and added."""
    direct_messages: bool = True
    """hygiene can write to one person privately."""
    ephemeral: bool = False
    """A message only one person in the channel sees."""
    buttons: bool = False
    """Interactive buttons on a post."""
    push: bool = False
    """Events are pushed as they happen (:mod:`hygiene.ports.events`), for ``hygiene serve``."""
    internal_notes_only: bool = False
    """Every write is an internal note the other side never sees (a client-facing channel)."""
    finds_own_posts: bool = True
    """An earlier post can be found by its outbox key, so a write of unknown outcome is never doubled."""


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str


@dataclass(frozen=True)
class ReadWindow:
    """How far back a read goes: ``rescan_from`` (edits, deletions and late replies are read again
    from here) and never before ``backfill_from`` (the first read, or after a long outage)."""

    now: datetime
    rescan_from: datetime
    backfill_from: datetime


@dataclass
class ChannelFetch:
    """One channel's read: its messages, the bookmark to store after them, and how much was read.

    When ``complete``, every live top-level message at or after ``covered_from`` and every reply of
    the threads in ``threads_read`` is in ``messages``: a stored message of that range that is not
    is gone (deleted). An incomplete read keeps the old bookmark and deletes nothing.
    """

    channel: ChannelInfo
    messages: list[ChatMessage] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    complete: bool = True
    covered_from: datetime | None = None
    threads_read: set[str] = field(default_factory=set)
    error: ExternalError | BudgetExhausted | None = None
    """Why the read stopped (None when it was complete)."""

    @property
    def deferred(self) -> bool:
        """The read stopped at a call budget or a long rate limit: the rest waits for the next cycle."""
        return isinstance(self.error, RateLimited | BudgetExhausted)

    @property
    def gone(self) -> bool:
        """The channel was deleted or archived, or hygiene was removed from it."""
        return isinstance(self.error, ChannelGone)


class ChatSource(Protocol):
    """Reading one chat (a platform and workspace)."""

    source: str
    """The chat's name in the config: it keys this chat's messages, links and cursors."""
    display_name: str
    """How people call the platform ("Slack"), in what hygiene writes elsewhere (a ticket's description)."""
    capabilities: Capabilities

    @property
    def bot_user_id(self) -> str:
        """hygiene's own user id here (known after :meth:`connect`)."""
        ...

    def connect(self, identity: Mapping[str, str] | None = None) -> dict[str, str]:
        """Who hygiene is on this chat (``{"user_id": …}``); a cached identity saves the call."""
        ...

    def resolve_channels(
        self, wanted: Sequence[str], paths: Sequence[str] | None = None, *, need_member: bool = True
    ) -> list[ChannelInfo]:
        """The channels named or id'd in ``wanted``; a ConfigError names each one that does not
        exist or (``need_member``) that hygiene is not in, by its key path in ``paths`` when given."""
        ...

    def fetch(self, channel: ChannelInfo, state: Mapping[str, Any], window: ReadWindow) -> ChannelFetch:
        """Messages since the bookmark ``state`` (at least from ``window.rescan_from``), thread
        replies that changed, and the bookmark to store once they are stored."""
        ...

    def calls(self) -> dict[str, int]:
        """API calls made so far, per method (for the run record)."""
        ...

    def learned_users(self) -> dict[str, tuple[str, bool]]:
        """People looked up so far (id → (name, is_bot)), for the store's cache."""
        ...


class ChatSink(Protocol):
    """Writing to one chat."""

    source: str
    display_name: str
    capabilities: Capabilities

    def send(self, action: Action) -> str | None:
        """Carry out a post, reply, DM or reaction; the id of the message posted (None for a reaction)."""
        ...

    def find_posted(self, action: Action, since: datetime) -> str | None:
        """The id of the message an earlier try of ``action`` posted, if any (a read: never posts)."""
        ...

    def channel_id(self, name_or_id: str) -> str | None:
        """A channel's id from its name or id, None when hygiene cannot see it."""
        ...

    def user_by_email(self, email: str) -> str | None:
        """The chat user id of the person with this e-mail, None when nobody has it."""
        ...

    def permalink(self, channel: str, message_id: str) -> str | None:
        """A link people can open to the message."""
        ...


class Chat(ChatSource, ChatSink, Protocol):
    """A platform hygiene both reads and writes (Slack, Rocket.Chat)."""


@runtime_checkable
class ContactDirectory(Protocol):
    """A chat with clients whose contacts are mapped to helpdesk clients (Digisac): ``hygiene
    check-config`` lists the contacts nobody mapped, so someone can map them."""

    def unmapped_contacts(self, find_client: Callable[[str], str | None]) -> list[str]:
        """The contacts whose client neither the chat's mapping nor ``find_client`` (the client
        matcher) determines, each shown without a phone number (a first name, at most the last
        two digits)."""
        ...
