"""The helpdesk snapshot: the tickets and the client directory as last read from each helpdesk.

Rules judge tickets from this snapshot rather than from the helpdesk, so a cycle works when the
helpdesk is down. Whether the client directory was ever read is the ``clients_at`` cursor.
"""

from __future__ import annotations

import json
from datetime import datetime

import sqlite_utils

from hygiene.models import Ticket
from hygiene.ports import ClientRecord
from hygiene.store.cursors import Cursors
from hygiene.store.database import iso


class Tickets:
    """The ``tickets`` and ``helpdesk_clients`` tables, per helpdesk."""

    def __init__(self, db: sqlite_utils.Database, cursors: Cursors) -> None:
        self.db = db
        self.cursors = cursors

    def save(self, helpdesk: str, tickets: list[Ticket], now: datetime) -> None:
        """Store (or replace) these tickets of ``helpdesk``."""
        self.db.table("tickets").upsert_all(
            (
                {
                    "helpdesk": helpdesk,
                    "id": ticket.id,
                    "number": ticket.number,
                    "data": ticket.model_dump_json(),
                    "synced_at": iso(now),
                }
                for ticket in tickets
            ),
            pk=("helpdesk", "id"),
        )

    def all(self, helpdesk: str) -> list[Ticket]:
        """Every stored ticket of ``helpdesk``, by id."""
        rows = self.db.execute("select data from tickets where helpdesk = ? order by id", [helpdesk])
        return [Ticket.model_validate_json(row[0]) for row in rows]

    def save_clients(self, helpdesk: str, clients: list[ClientRecord], now: datetime) -> None:
        """Replace the stored client directory with a complete one just read."""
        self.db.execute("delete from helpdesk_clients where helpdesk = ?", [helpdesk])
        self.db.table("helpdesk_clients").insert_all(
            {
                "helpdesk": helpdesk,
                "id": client.id,
                "name": client.name,
                "aliases": json.dumps(list(client.aliases), ensure_ascii=False),
                "synced_at": iso(now),
            }
            for client in clients
        )

    def clients(self, helpdesk: str) -> list[ClientRecord] | None:
        """The client directory of the last successful read; None when it was never read."""
        if self.cursors.get(f"helpdesk:{helpdesk}:clients_at") is None:
            return None
        rows = self.db.execute(
            "select id, name, aliases from helpdesk_clients where helpdesk = ? order by name", [helpdesk]
        )
        return [ClientRecord(id=row[0], name=row[1], aliases=tuple(json.loads(row[2] or "[]"))) for row in rows]
