"""What rules see: the helpdesk snapshot (:class:`TicketLookup`) and the context of a message
(:class:`RuleContext`) or of a ticket (:class:`TicketContext`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import datetime, timedelta, tzinfo
from typing import Protocol
from zoneinfo import ZoneInfo

from hygiene.business_time import BusinessCalendar
from hygiene.charters import Charter
from hygiene.clients import ClientMatch
from hygiene.models import ChatMessage, SlaTerms, Staleness, Ticket


class TicketLookup(Protocol):
    """What rules may ask of the helpdesk snapshot."""

    def by_ref(self, key: str) -> Ticket | None:
        """The ticket as it is now (the helpdesk may be asked live)."""
        ...

    def known(self, key: str) -> Ticket | None:
        """The ticket as last synced, without asking the helpdesk (for judging, not answering)."""
        ...

    def clients(self) -> list[str]: ...

    def open_for_client(self, client: str, at: datetime | None = None, zone: tzinfo | None = None) -> list[Ticket]:
        """The client's open or pending tickets; with ``at``, those that were open then (created
        before, and still active or updated after: an audit replays chat against a later export)."""
        ...

    def active(self, at: datetime | None = None, zone: tzinfo | None = None) -> list[Ticket]:
        """Every open or pending ticket (to find one by its subject); ``at`` as above."""
        ...

    def closed_for_client(
        self, client: str, at: datetime, within: timedelta, zone: tzinfo | None = None
    ) -> list[Ticket]:
        """The client's tickets closed (solved or closed) in the ``within`` before ``at``."""
        ...

    def epoch(self, at: datetime, zone: tzinfo | None = None) -> int:
        """Which tickets are open at ``at`` changes only at a few moments: the number of those
        passed by ``at`` (two moments with the same epoch see the same open tickets)."""
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

    def charter(self, message: ChatMessage) -> Charter | None:
        """The charter of the message's channel (``[charters.<channel>]``), or None."""
        ...

    def people_in(self, groups: Iterable[str]) -> frozenset[str]:
        """The user ids of the named people groups (``[people.groups]``)."""
        ...

    @property
    def calendar(self) -> BusinessCalendar:
        """The team's business calendar, to measure waits in business time (``between``, ``add``)."""
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
