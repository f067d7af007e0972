"""Links: which chat threads belong to which helpdesk tickets, whoever made the link.

A link is made when hygiene creates a ticket from a thread or when a thread names a ticket;
it is checked every cycle, so both directions are indexed lookups.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from hygiene.store.database import iso


class Links:
    """The ``links`` table: (channel, thread_ts) ↔ (helpdesk, ticket_id)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def add(self, channel: str, thread_ts: str, ticket_id: str, helpdesk: str, source: str, now: datetime) -> bool:
        """Link a thread to a ticket; False when it already was (runs every cycle, so no table scans)."""
        cursor = self.db.execute(
            "insert or ignore into links (channel, thread_ts, ticket_id, helpdesk, source, created_at)"
            " values (?, ?, ?, ?, ?, ?)",
            [channel, thread_ts, ticket_id, helpdesk, source, iso(now)],
        )
        return cursor.rowcount > 0

    def of_thread(self, channel: str, thread_ts: str) -> list[str]:
        """The tickets a thread is linked to, first linked first."""
        rows = self.db.execute(
            "select ticket_id from links where channel = ? and thread_ts = ? order by created_at",
            [channel, thread_ts],
        )
        return [row[0] for row in rows]

    def for_ticket(self, helpdesk: str, ticket_id: str) -> list[tuple[str, str]]:
        """The (channel, thread_ts) of the threads linked to a ticket, first linked first."""
        rows = self.db.execute(
            "select channel, thread_ts from links where helpdesk = ? and ticket_id = ? order by created_at",
            [helpdesk, ticket_id],
        )
        return [(row[0], row[1]) for row in rows]
