"""The SQLite store, one group of tables per concept, composed by :class:`Store`.

One file in WAL mode, written through sqlite-utils (see ``database``; the schema is in
``migrations``). Each concept is an attribute holding a small class over the same database:
``store.cursors``, ``store.messages``, ``store.findings``, ``store.outbox``, ``store.links``,
``store.tickets`` (the helpdesk snapshot), ``store.people``, ``store.runs``, ``store.reports`` and
``store.feedback`` (labels and the audit trail of interactions).
``atomic()`` groups writes that must land together — outbox rows and the cursor moves that cover them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from hygiene.store.cursors import Cursors
from hygiene.store.database import Database, StoreError, connect, explain_failure
from hygiene.store.feedback import Feedback
from hygiene.store.findings import Findings
from hygiene.store.links import Links
from hygiene.store.messages import Messages
from hygiene.store.migrations import migrate
from hygiene.store.outbox import Outbox, OutboxEntry
from hygiene.store.people import People
from hygiene.store.reports import Reports
from hygiene.store.runs import Runs
from hygiene.store.tickets import Tickets

__all__ = ["OutboxEntry", "Store", "StoreError"]


class Store:
    """The store's database, migrated to the current schema, and its table groups."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.schema_version = migrate(db)
        self.cursors = Cursors(db)
        self.messages = Messages(db)
        self.findings = Findings(db)
        self.outbox = Outbox(db)
        self.links = Links(db)
        self.tickets = Tickets(db, self.cursors)
        self.people = People(db)
        self.runs = Runs(db)
        self.reports = Reports(db)
        self.feedback = Feedback(db)

    @classmethod
    def open(cls, path: Path) -> Store:
        """The store at ``path`` (WAL, busy timeout, BEGIN IMMEDIATE writes), or a StoreError naming the fix."""
        db = connect(path)
        try:
            return cls(db)
        except sqlite3.DatabaseError as exc:
            db.close()
            raise StoreError(explain_failure(path, exc)) from None

    @classmethod
    def memory(cls) -> Store:
        """A fresh store in memory (tests, dry runs)."""
        return cls(Database(memory=True))

    def close(self) -> None:
        """Close the database connection."""
        self.db.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        """One write transaction around the block: everything in it lands, or nothing does."""
        with self.db.atomic():
            yield
