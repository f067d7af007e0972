"""Links: which chat threads belong to which helpdesk tickets, whoever made the link.

A link is made when hygiene creates a ticket from a thread or when a thread names a ticket;
it is checked every cycle, so both directions are indexed lookups.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from hygiene.models import ChatMessage
from hygiene.store.database import iso


class Links:
    """The ``links`` table: (source, channel, thread_id) ↔ (helpdesk, ticket_id), and how it was made."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def add(self, message: ChatMessage, ticket_id: str, helpdesk: str, how: str, now: datetime) -> bool:
        """Link the message's thread to a ticket; False when it already was."""
        return self.add_thread(message.source, message.channel, message.root_id, ticket_id, helpdesk, how, now)

    def add_thread(
        self, source: str, channel: str, thread_id: str, ticket_id: str, helpdesk: str, how: str, now: datetime
    ) -> bool:
        """Link a thread to a ticket (``how``: reference or created); False when it already was
        (runs every cycle, so no table scans)."""
        cursor = self.db.execute(
            "insert or ignore into links (source, channel, thread_id, ticket_id, helpdesk, how, created_at)"
            " values (?, ?, ?, ?, ?, ?, ?)",
            [source, channel, thread_id, ticket_id, helpdesk, how, iso(now)],
        )
        return cursor.rowcount > 0

    def of_thread(self, source: str, channel: str, thread_id: str) -> list[str]:
        """The tickets a thread is linked to, first linked first."""
        rows = self.db.execute(
            "select ticket_id from links where source = ? and channel = ? and thread_id = ? order by created_at",
            [source, channel, thread_id],
        )
        return [row[0] for row in rows]

    def for_ticket(self, helpdesk: str, ticket_id: str) -> list[tuple[str, str, str]]:
        """The (source, channel, thread_id) of the threads linked to a ticket, first linked first."""
        rows = self.db.execute(
            "select source, channel, thread_id from links where helpdesk = ? and ticket_id = ? order by created_at",
            [helpdesk, ticket_id],
        )
        return [(row[0], row[1], row[2]) for row in rows]
