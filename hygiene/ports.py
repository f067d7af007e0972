"""The interfaces connectors and rules implement or consume.

The engine talks to a :class:`Chat` and a :class:`Helpdesk`; rules see only a :class:`RuleContext`.
Nothing here knows Slack, G Click or Zendesk.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from hygiene.business_time import BusinessCalendar
from hygiene.clients import ClientMatch
from hygiene.models import Action, ChatMessage, SlaTerms, Staleness, Ticket


@dataclass(frozen=True)
class SyncBatch:
    """What one incremental helpdesk sync returned: changed tickets and the state to save after."""

    tickets: list[Ticket]
    state: dict[str, Any]
    complete: bool = True
    calls: int = 0


@dataclass(frozen=True)
class TicketDraft:
    subject: str
    description: str
    client: str | None = None
    requester: str | None = None
    department: str | None = None
    client_id: str | None = None
    """The helpdesk's own id of ``client`` (from its client directory), when it is known."""


@dataclass(frozen=True)
class ClientRecord:
    """One client as the helpdesk keeps it: its id, full name and other names (G Click's apelido)."""

    id: str
    name: str
    aliases: tuple[str, ...] = ()


class Helpdesk(ABC):
    """One helpdesk behind one interface. State is a small JSON-able dict the core stores."""

    name: str = "helpdesk"
    display_name: str = "helpdesk"
    """How people call it ("G Click", "Zendesk")."""

    @abstractmethod
    def sync(self, state: dict[str, Any]) -> SyncBatch:
        """Tickets changed since ``state`` (all of them when it is empty)."""

    @abstractmethod
    def get_ticket(self, key: str) -> Ticket | None:
        """One ticket by id or number; None when it does not exist."""

    @abstractmethod
    def clients(self) -> list[str]:
        """Client display names, for matching names in chat."""

    def client_directory(self) -> list[ClientRecord]:
        """Every client the helpdesk has (a complete read, or an error: never a partial list)."""
        return [ClientRecord(id=name, name=name) for name in self.clients()]

    requires_client: bool = False
    """True when a ticket cannot be created without a client (G Click's clienteId)."""

    @abstractmethod
    def create_ticket(self, draft: TicketDraft, key: str) -> Ticket:
        """Create a ticket; calling twice with the same ``key`` returns the first ticket."""

    def find_created(self, key: str) -> Ticket | None:
        """The ticket an earlier try with ``key`` created, if any (a read only: never creates)."""
        return None

    @abstractmethod
    def add_note(self, ticket_id: str, text: str) -> None:
        """An internal note on the ticket (never counts as an update by a person)."""

    def open_tickets_of(self, client: str) -> list[Ticket]:
        return []

    def api_calls(self) -> int:
        """HTTP calls made so far (for the run record)."""
        http = getattr(self, "http", None)
        return int(getattr(http, "calls", 0))

    def ticket_url(self, ticket: Ticket) -> str | None:
        return ticket.url

    def url_patterns(self) -> list[re.Pattern[str]]:
        return []


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


class TicketLookup(Protocol):
    """What rules may ask of the helpdesk snapshot."""

    def by_ref(self, key: str) -> Ticket | None:
        """The ticket as it is now (the helpdesk may be asked live)."""
        ...

    def known(self, key: str) -> Ticket | None:
        """The ticket as last synced, without asking the helpdesk (for judging, not answering)."""
        ...

    def clients(self) -> list[str]: ...

    def open_for_client(self, client: str) -> list[Ticket]: ...

    def active(self) -> list[Ticket]:
        """Every open or pending ticket (to find one by its subject)."""
        ...

    def find_client(self, text: str) -> ClientMatch | None:
        """The helpdesk client (or configured alias) named in ``text``."""
        ...

    def __len__(self) -> int: ...


class RuleContext(Protocol):
    """What a rule sees besides the message it judges."""

    @property
    def now(self) -> datetime: ...

    @property
    def zone(self) -> ZoneInfo:
        """The team's time zone, for times shown to people."""
        ...

    @property
    def tickets(self) -> TicketLookup: ...

    @property
    def url_patterns(self) -> list[re.Pattern[str]]: ...

    def thread(self, message: ChatMessage) -> list[ChatMessage]:
        """Every message of the message's thread, root first (just the message when it has none)."""
        ...

    def linked_tickets(self, message: ChatMessage) -> list[str]:
        """Ids of tickets already linked to the message's thread."""
        ...

    def staleness(self, ticket: Ticket) -> Staleness | None:
        """The ticket's age and SLA window in business hours, when an SLA book is known."""
        ...

    def following(self, message: ChatMessage, within: timedelta) -> list[ChatMessage]:
        """Human messages after ``message`` in the same conversation (channel or thread) within a span."""
        ...


class TicketContext(Protocol):
    """What ticket rules see: the time, and each ticket's calendar and SLA terms."""

    @property
    def now(self) -> datetime: ...

    def calendar(self, ticket: Ticket) -> BusinessCalendar: ...

    def terms(self, ticket: Ticket) -> SlaTerms: ...

    def staleness(self, ticket: Ticket) -> Staleness | None:
        """Business hours since the last update by a person, against the SLA window."""
        ...
