"""The helpdesk port: one interface every helpdesk connector implements (G Click, Zendesk, files).

State is a small JSON-able bookmark the connector owns and the core stores after the tickets it
covers (Singer's pattern).
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any

from hygiene.models import Ticket


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
