"""Runs: one row per cycle, started before it works and finished with its status and figures.

A run left ``running`` is how a crashed cycle is found and closed later.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlite_utils

from hygiene.store.database import iso


class Runs:
    """The ``runs`` table, keyed by an increasing id."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def start(self, now: datetime) -> int:
        """Record that a cycle started; returns its run id."""
        table = self.db.table("runs").insert({"started_at": iso(now), "status": "running"})
        return int(table.last_rowid or 0)

    def finish(self, run_id: int, now: datetime, status: str, stats: dict[str, Any]) -> None:
        """Record how a run ended and its figures."""
        self.db.table("runs").update(run_id, {"finished_at": iso(now), "status": status, "stats": json.dumps(stats)})

    def all(self) -> list[dict[str, Any]]:
        """Every run row, oldest first."""
        return list(self.db.query("select * from runs order by id"))
