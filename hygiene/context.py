"""What rules see: a window of one channel's messages and the helpdesk snapshot."""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta

from hygiene.clock import from_slack_ts
from hygiene.models import ChatMessage, Ticket
from hygiene.text import fold


class TicketSnapshot:
    """The :class:`~hygiene.ports.TicketLookup` over a list of tickets."""

    def __init__(self, tickets: Iterable[Ticket] = ()) -> None:
        self._tickets = list(tickets)
        self._by_ref: dict[str, Ticket] = {}
        for ticket in self._tickets:
            self._by_ref.setdefault(ticket.id, ticket)
        for ticket in self._tickets:
            if ticket.number:
                self._by_ref[ticket.number] = ticket
        self._clients = sorted({t.client for t in self._tickets if t.client})

    def by_ref(self, key: str) -> Ticket | None:
        return self._by_ref.get(key)

    def clients(self) -> list[str]:
        return self._clients

    def open_for_client(self, client: str) -> list[Ticket]:
        wanted = fold(client)
        return [t for t in self._tickets if t.is_active and t.client and fold(t.client) == wanted]

    def all(self) -> list[Ticket]:
        return list(self._tickets)


class WindowContext:
    """The :class:`~hygiene.ports.RuleContext` over messages already in memory."""

    def __init__(
        self,
        now: datetime,
        messages: Iterable[ChatMessage],
        tickets: TicketSnapshot,
        url_patterns: list[re.Pattern[str]] | None = None,
        links: Callable[[str, str], list[str]] | None = None,
    ) -> None:
        self._now = now
        self._tickets = tickets
        self._url_patterns = url_patterns or []
        self._links = links
        self._threads: dict[tuple[str, str], list[ChatMessage]] = defaultdict(list)
        self._top: dict[str, list[ChatMessage]] = defaultdict(list)
        for message in sorted(messages, key=lambda m: m.ts):
            self._add(message)

    def _add(self, message: ChatMessage) -> None:
        self._threads[(message.channel, message.root_ts)].append(message)
        if not message.is_reply:
            self._top[message.channel].append(message)

    @property
    def now(self) -> datetime:
        return self._now

    @property
    def tickets(self) -> TicketSnapshot:
        return self._tickets

    @property
    def url_patterns(self) -> list[re.Pattern[str]]:
        return self._url_patterns

    def thread(self, message: ChatMessage) -> list[ChatMessage]:
        return list(self._threads.get((message.channel, message.root_ts)) or [message])

    def linked_tickets(self, message: ChatMessage) -> list[str]:
        return self._links(message.channel, message.root_ts) if self._links else []

    def following(self, message: ChatMessage, within: timedelta) -> list[ChatMessage]:
        until = f"{(from_slack_ts(message.ts) + within).timestamp():.6f}"
        if message.is_reply:
            conversations = [self._threads.get((message.channel, message.root_ts), [])]
        else:
            conversations = [self._top.get(message.channel, []), self._threads.get((message.channel, message.ts), [])]
        found: list[ChatMessage] = []
        for conversation in conversations:  # each is sorted by ts
            start = bisect_right(conversation, message.ts, key=lambda m: m.ts)
            for other in conversation[start:]:
                if other.ts > until:
                    break
                if not other.is_bot and other.ts != message.ts:
                    found.append(other)
        return sorted(set(found), key=lambda m: m.ts)
