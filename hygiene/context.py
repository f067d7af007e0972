"""What rules see: a window of one channel's messages and the helpdesk snapshot."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime, timedelta, tzinfo
from operator import attrgetter
from zoneinfo import ZoneInfo

from hygiene.business_time import BusinessCalendar
from hygiene.charters import Charter, CharterBook
from hygiene.clients import ClientMatch, ClientMatcher
from hygiene.errors import HygieneError
from hygiene.models import ChatMessage, Staleness, Ticket
from hygiene.text import fold


def _open_at(ticket: Ticket, at: datetime, zone: tzinfo) -> bool:
    """Open at ``at``: opened by then, and active now or closed only later (its last update)."""
    if ticket.created_at is not None and _aware(ticket.created_at, zone) > at:
        return False  # opened since: not what the message is about
    return ticket.is_active or (ticket.updated_at is not None and _aware(ticket.updated_at, zone) > at)


def _aware(moment: datetime, zone: tzinfo) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


_KEY = re.compile(r"^([A-Za-z]{2,10})-(\d+)$")


class TicketSnapshot:
    """The :class:`~hygiene.ports.TicketLookup` over a list of tickets."""

    def __init__(
        self,
        tickets: Iterable[Ticket] = (),
        aliases: Mapping[str, str] | None = None,
        threshold: float = 90,
        extra_clients: Iterable[str] = (),
    ) -> None:
        self._tickets = list(tickets)
        self._by_ref: dict[str, Ticket] = {}
        for ticket in self._tickets:
            self._by_ref.setdefault(ticket.id, ticket)
        for ticket in self._tickets:
            if ticket.number:
                self._by_ref[ticket.number] = ticket
        for ticket in self._tickets:
            for key in (ticket.number, ticket.id):
                keyed = _KEY.match(key or "")
                if key and keyed:  # "CF-5120" is typed "CF-5120", "cf-5120" and "5120"
                    self._by_ref.setdefault(keyed.group(2), ticket)
                    self._by_ref.setdefault(key.upper(), ticket)
        self._active = [t for t in self._tickets if t.is_active]
        self._moments: dict[tzinfo, list[float]] = {}
        """Per zone, when closed tickets were opened or last touched (seconds, sorted: compared by the
        million in an audit, where floats compare several times faster than aware datetimes)."""
        self._clients = sorted({t.client for t in self._tickets if t.client} | set(extra_clients))
        self._matcher = ClientMatcher(self._clients, aliases, threshold)

    def by_ref(self, key: str) -> Ticket | None:
        return self._by_ref.get(key) or self._by_ref.get(key.upper())

    def known(self, key: str) -> Ticket | None:
        return self.by_ref(key)

    def clients(self) -> list[str]:
        return self._clients

    def open_for_client(self, client: str, at: datetime | None = None, zone: tzinfo | None = None) -> list[Ticket]:
        wanted = fold(client)
        return [t for t in self.active(at, zone) if t.client and fold(t.client) == wanted]

    def active(self, at: datetime | None = None, zone: tzinfo | None = None) -> list[Ticket]:
        if at is None:
            return self._active
        return [t for t in self._tickets if _open_at(t, at, zone or UTC)]

    def closed_for_client(
        self, client: str, at: datetime, within: timedelta, zone: tzinfo | None = None
    ) -> list[Ticket]:
        wanted, zone = fold(client), zone or UTC
        return [
            t
            for t in self._tickets
            if not t.is_active
            and t.client
            and fold(t.client) == wanted
            and t.updated_at is not None
            and at - within <= _aware(t.updated_at, zone) <= at
        ]

    def epoch(self, at: datetime, zone: tzinfo | None = None) -> int:
        zone = zone or UTC
        if zone not in self._moments:
            self._moments[zone] = sorted(
                _aware(moment, zone).timestamp()
                for t in self._tickets
                if not t.is_active
                for moment in (t.created_at, t.updated_at)
                if moment is not None
            )
        return bisect_right(self._moments[zone], _aware(at, zone).timestamp())

    def find_client(self, text: str) -> ClientMatch | None:
        return self._matcher.find(text)

    def __len__(self) -> int:
        return len(self._tickets)


class LiveTickets:
    """Ticket lookups that read a referenced ticket live from the helpdesk (once per cycle),
    so that a status answer reflects the ticket as it is now; the snapshot answers the rest."""

    def __init__(self, snapshot: TicketSnapshot, fetch: Callable[[str], Ticket | None]) -> None:
        self.snapshot = snapshot
        self._fetch = fetch
        self._live: dict[str, Ticket | None] = {}

    def by_ref(self, key: str) -> Ticket | None:
        known = self.snapshot.by_ref(key)
        if known is None:
            return None
        if known.id not in self._live:
            try:
                self._live[known.id] = self._fetch(known.id) or known
            except HygieneError:
                self._live[known.id] = known  # the snapshot is the best we have this cycle
        return self._live[known.id]

    def known(self, key: str) -> Ticket | None:
        return self.snapshot.by_ref(key)

    def clients(self) -> list[str]:
        return self.snapshot.clients()

    def open_for_client(self, client: str, at: datetime | None = None, zone: tzinfo | None = None) -> list[Ticket]:
        return self.snapshot.open_for_client(client, at, zone)

    def active(self, at: datetime | None = None, zone: tzinfo | None = None) -> list[Ticket]:
        return self.snapshot.active(at, zone)

    def epoch(self, at: datetime, zone: tzinfo | None = None) -> int:
        return self.snapshot.epoch(at, zone)

    def closed_for_client(
        self, client: str, at: datetime, within: timedelta, zone: tzinfo | None = None
    ) -> list[Ticket]:
        return self.snapshot.closed_for_client(client, at, within, zone)

    def find_client(self, text: str) -> ClientMatch | None:
        return self.snapshot.find_client(text)

    def __len__(self) -> int:
        return len(self.snapshot)


class WindowContext:
    """The :class:`~hygiene.ports.RuleContext` over messages held in memory.

    The engine builds one per channel and cycle; an audit keeps one per channel and slides it
    along the stream (``add``, ``remove``, ``evict_before``, ``now``).
    """

    def __init__(
        self,
        now: datetime,
        messages: Iterable[ChatMessage],
        tickets: TicketSnapshot | LiveTickets,
        url_patterns: list[re.Pattern[str]] | None = None,
        links: Callable[[ChatMessage], list[str]] | None = None,
        zone: ZoneInfo | None = None,
        staleness: Callable[[Ticket, datetime], Staleness | None] | None = None,
        charters: CharterBook | None = None,
        calendar: BusinessCalendar | None = None,
    ) -> None:
        self.now = now
        self._charters = charters or CharterBook()
        self._staleness = staleness
        self._zone = zone or ZoneInfo("America/Sao_Paulo")
        self._calendar = calendar or BusinessCalendar(self._zone)
        self._tickets = tickets
        self._url_patterns = url_patterns or []
        self._links = links
        self._linked: dict[tuple[str, str, str], list[str]] = {}
        self._threads: dict[tuple[str, str], list[ChatMessage]] = defaultdict(list)
        self._top: dict[str, list[ChatMessage]] = defaultdict(list)
        self._by_key: dict[tuple[str, str], ChatMessage] = {}
        for message in sorted(messages, key=_order):
            self.add(message)

    def add(self, message: ChatMessage) -> None:
        """Add a message, or replace the one with the same channel and id (an edit)."""
        if (message.channel, message.id) in self._by_key:
            self.remove(message.channel, message.id)
        self._by_key[(message.channel, message.id)] = message
        insort(self._threads[(message.channel, message.root_id)], message, key=_order)
        if not message.is_reply:
            insort(self._top[message.channel], message, key=_order)

    def remove(self, channel: str, message_id: str) -> ChatMessage | None:
        message = self._by_key.pop((channel, message_id), None)
        if message is None:
            return None
        _drop(self._threads[(channel, message.root_id)], message)
        if not message.is_reply:
            _drop(self._top[channel], message)
        return message

    def get(self, channel: str, message_id: str) -> ChatMessage | None:
        return self._by_key.get((channel, message_id))

    def evict_before(self, channel: str, moment: datetime) -> None:
        """Forget a channel's threads that started before ``moment``."""
        top = self._top[channel]
        del top[: bisect_left(top, (moment, ""), key=_order)]
        for key in [
            k for k, thread in self._threads.items() if k[0] == channel and (not thread or thread[0].at < moment)
        ]:
            for message in self._threads.pop(key):
                self._by_key.pop((channel, message.id), None)

    def __len__(self) -> int:
        return len(self._by_key)

    @property
    def zone(self) -> ZoneInfo:
        return self._zone

    @property
    def tickets(self) -> TicketSnapshot | LiveTickets:
        return self._tickets

    @property
    def url_patterns(self) -> list[re.Pattern[str]]:
        return self._url_patterns

    def thread(self, message: ChatMessage) -> list[ChatMessage]:
        return list(self._threads.get((message.channel, message.root_id)) or [message])

    def linked_tickets(self, message: ChatMessage) -> list[str]:
        """Asked by several rules per message: the store is read once per thread and context (a
        context lives for one channel's judging, while no link is written)."""
        if self._links is None:
            return []
        key = (message.source, message.channel, message.root_id)
        if key not in self._linked:
            self._linked[key] = self._links(message)
        return self._linked[key]

    def staleness(self, ticket: Ticket) -> Staleness | None:
        return self._staleness(ticket, self.now) if self._staleness else None

    def charter(self, message: ChatMessage) -> Charter | None:
        return self._charters.charter(message)

    def people_in(self, groups: Iterable[str]) -> frozenset[str]:
        return self._charters.people_in(groups)

    @property
    def calendar(self) -> BusinessCalendar:
        return self._calendar

    def following(self, message: ChatMessage, within: timedelta) -> list[ChatMessage]:
        until = message.at + within
        if message.is_reply:
            conversations = [self._threads.get((message.channel, message.root_id), [])]
        else:
            conversations = [self._top.get(message.channel, []), self._threads.get((message.channel, message.id), [])]
        found: dict[str, ChatMessage] = {}
        for conversation in conversations:
            start = bisect_right(conversation, _order(message), key=_order)
            for other in conversation[start:]:
                if other.at > until:
                    break
                if not other.is_bot:
                    found[other.id] = other
        return sorted(found.values(), key=_order)


_order = attrgetter("at", "id")
"""A message's place in its conversation, as bisect's key (attrgetter: no Python frame per comparison)."""


def _drop(messages: list[ChatMessage], message: ChatMessage) -> None:
    index = bisect_left(messages, _order(message), key=_order)
    if index < len(messages) and messages[index].id == message.id:
        del messages[index]
