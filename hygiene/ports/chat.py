"""The chat port (still Slack-shaped: being made neutral)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from hygiene.models import Action, ChatMessage


@dataclass(frozen=True)
class ChannelInfo:
    id: str
    name: str


@dataclass
class ChannelFetch:
    """One channel's messages from ``oldest`` on, and whether the whole range was read."""

    channel: ChannelInfo
    messages: list[ChatMessage] = field(default_factory=list)
    complete: bool = True
    error: str | None = None
    deferred: bool = False
    """The read stopped at the call budget or a long rate limit: the rest waits for the next cycle."""
    threads_read: set[str] = field(default_factory=set)
    gone: bool = False
    """The channel was deleted or archived, or the bot left it."""


class Chat(Protocol):
    """The chat platform as the engine needs it."""

    bot_user_id: str

    def resolve_channels(self, wanted: Sequence[str]) -> list[ChannelInfo]: ...

    def connect(self, identity: Mapping[str, str] | None = None) -> dict[str, str]:
        """Who the bot is; a cached identity saves the call."""
        ...

    def fetch(self, channel: ChannelInfo, oldest: str, known_threads: Mapping[str, str | None]) -> ChannelFetch:
        """Messages since ``oldest``, plus replies of threads whose latest reply is not the known one."""
        ...

    def find_posted(self, action: Action, since_ts: str) -> str | None: ...

    def send(self, action: Action) -> str | None: ...

    def calls(self) -> dict[str, int]: ...

    def user_by_email(self, email: str) -> str | None:
        """The chat user id for an e-mail, None when nobody has it."""
        ...

    def channel_id(self, name_or_id: str) -> str | None: ...

    def permalink(self, channel: str, ts: str) -> str | None: ...

    def learned_users(self) -> dict[str, tuple[str, bool]]:
        """Users looked up this cycle (id → (name, is_bot)), for the store's cache."""
        ...
