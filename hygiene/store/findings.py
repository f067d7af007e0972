"""Findings: what the rules found and what was decided about each, so nothing is judged twice.

A finding's fingerprint is its identity; ``has`` is checked before a rule's finding is acted on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlite_utils

from hygiene.models import Finding
from hygiene.store.database import instant, iso


class Findings:
    """The ``findings`` table, keyed by fingerprint."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def has(self, fingerprint: str) -> bool:
        """Whether a finding with this fingerprint was already recorded."""
        row = self.db.execute("select 1 from findings where fingerprint = ?", [fingerprint]).fetchone()
        return row is not None

    def add(self, finding: Finding, action: str, now: datetime) -> None:
        """Record a finding and the decision taken on it (kept as it was when already there)."""
        self.db.table("findings").insert(
            {
                "fingerprint": finding.fingerprint,
                "rule": finding.rule,
                "source": finding.source,
                "channel": finding.channel,
                "channel_name": finding.channel_name,
                "message_id": finding.message_id,
                "thread_id": finding.thread_id,
                "user": finding.user,
                "score": finding.score,
                "evidence": json.dumps(finding.evidence, ensure_ascii=False),
                "action": action,
                "created_at": iso(now),
            },
            ignore=True,
        )

    def open_offers(
        self, rules: Sequence[str], source: str, channel: str, since: datetime
    ) -> list[tuple[str, str, dict[str, Any]]]:
        """(rule, message id, evidence) of the nudged findings of ``rules`` — nudges that offered a
        ticket — on a channel's messages posted since ``since``."""
        if not rules:
            return []
        marks = ", ".join("?" for _ in rules)
        rows = self.db.execute(
            f"select f.rule, f.message_id, f.evidence from findings f join messages m on m.source = f.source"
            f" and m.channel = f.channel and m.id = f.message_id where f.rule in ({marks}) and f.action = 'nudge'"
            f" and f.source = ? and f.channel = ? and m.at >= ?",
            [*rules, source, channel, instant(since)],
        )
        return [(row[0], row[1], json.loads(row[2] or "{}")) for row in rows]

    def get(self, fingerprint: str) -> dict[str, Any] | None:
        """One finding's row, its evidence read back (None when unknown)."""
        rows = list(self.db.query("select * from findings where fingerprint = ?", [fingerprint]))
        if not rows:
            return None
        return {**rows[0], "evidence": json.loads(rows[0]["evidence"] or "{}")}

    def all(self) -> list[dict[str, Any]]:
        """Every finding row, oldest first."""
        return list(self.db.query("select * from findings order by created_at, fingerprint"))
