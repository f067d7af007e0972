"""What rules see: a window of one channel's messages and the helpdesk snapshot."""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right, insort
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from operator import attrgetter
from zoneinfo import ZoneInfo

from hygiene.clients import ClientMatch, ClientMatcher
from hygiene.clock import from_slack_ts
from hygiene.errors import HygieneError
from hygiene.models import ChatMessage, Staleness, Ticket
from hygiene.text import fold


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
        self._active = [t for t in self._tickets if t.is_active]
        self._clients = sorted({t.client for t in self._tickets if t.client} | set(extra_clients))
        self._matcher = ClientMatcher(self._clients, aliases, threshold)

    def by_ref(self, key: str) -> Ticket | None:
        return self._by_ref.get(key)

    def known(self, key: str) -> Ticket | None:
        return self._by_ref.get(key)

    def clients(self) -> list[str]:
        return self._clients

    def open_for_client(self, client: str) -> list[Ticket]:
        wanted = fold(client)
        return [t for t in self._active if t.client and fold(t.client) == wanted]

    def active(self) -> list[Ticket]:
        return self._active

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

    def open_for_client(self, client: str) -> list[Ticket]:
        return self.snapshot.open_for_client(client)

    def active(self) -> list[Ticket]:
        return self.snapshot.active()

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
        links: Callable[[str, str], list[str]] | None = None,
        zone: ZoneInfo | None = None,
        staleness: Callable[[Ticket, datetime], Staleness | None] | None = None,
    ) -> None:
        self.now = now
        self._staleness = staleness
        self._zone = zone or ZoneInfo("America/Sao_Paulo")
        self._tickets = tickets
        self._url_patterns = url_patterns or []
        self._links = links
        self._threads: dict[tuple[str, str], list[ChatMessage]] = defaultdict(list)
        self._top: dict[str, list[ChatMessage]] = defaultdict(list)
        self._by_key: dict[tuple[str, str], ChatMessage] = {}
        for message in sorted(messages, key=lambda m: m.ts):
            self.add(message)

    def add(self, message: ChatMessage) -> None:
        """Add a message, or replace the one with the same channel and ts (an edit)."""
        if (message.channel, message.ts) in self._by_key:
            self.remove(message.channel, message.ts)
        self._by_key[(message.channel, message.ts)] = message
        insort(self._threads[(message.channel, message.root_ts)], message, key=_ts)
        if not message.is_reply:
            insort(self._top[message.channel], message, key=_ts)

    def remove(self, channel: str, ts: str) -> ChatMessage | None:
        message = self._by_key.pop((channel, ts), None)
        if message is None:
            return None
        _drop(self._threads[(channel, message.root_ts)], ts)
        if not message.is_reply:
            _drop(self._top[channel], ts)
        return message

    def get(self, channel: str, ts: str) -> ChatMessage | None:
        return self._by_key.get((channel, ts))

    def evict_before(self, channel: str, ts: str) -> None:
        """Forget a channel's threads that started before ``ts``."""
        top = self._top[channel]
        cut = bisect_left(top, ts, key=_ts)
        del top[:cut]
        for key in [k for k in self._threads if k[0] == channel and k[1] < ts]:
            for message in self._threads.pop(key):
                self._by_key.pop((channel, message.ts), None)

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
        return list(self._threads.get((message.channel, message.root_ts)) or [message])

    def linked_tickets(self, message: ChatMessage) -> list[str]:
        return self._links(message.channel, message.root_ts) if self._links else []

    def staleness(self, ticket: Ticket) -> Staleness | None:
        return self._staleness(ticket, self.now) if self._staleness else None

    def following(self, message: ChatMessage, within: timedelta) -> list[ChatMessage]:
        until = f"{(from_slack_ts(message.ts) + within).timestamp():.6f}"
        if message.is_reply:
            conversations = [self._threads.get((message.channel, message.root_ts), [])]
        else:
            conversations = [self._top.get(message.channel, []), self._threads.get((message.channel, message.ts), [])]
        found: dict[str, ChatMessage] = {}
        for conversation in conversations:
            start = bisect_right(conversation, message.ts, key=_ts)
            for other in conversation[start:]:
                if other.ts > until:
                    break
                if not other.is_bot:
                    found[other.ts] = other
        return [found[ts] for ts in sorted(found)]


_ts = attrgetter("ts")
"""A message's ts, as bisect's key (attrgetter: no Python frame per comparison)."""


def _drop(messages: list[ChatMessage], ts: str) -> None:
    index = bisect_left(messages, ts, key=_ts)
    if index < len(messages) and messages[index].ts == ts:
        del messages[index]
