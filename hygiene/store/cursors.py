"""Cursors: small named JSON values that say how far each reader got (channels, helpdesk sync).

They live apart from the rest so that every group that needs "how far did we get" reads them
the same way, and so that a cursor move can be written in the same transaction as what it covers.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlite_utils

from hygiene.store.database import iso


class Cursors:
    """The ``cursors`` table: one JSON value per key."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def get(self, key: str) -> Any:
        """The value stored under ``key``, or None when it was never set."""
        row = self.db.execute("select value from cursors where key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else None

    def set(self, key: str, value: Any, now: datetime) -> None:
        """Store ``value`` under ``key`` (as JSON)."""
        self.db.table("cursors").upsert({"key": key, "value": json.dumps(value), "updated_at": iso(now)}, pk="key")
