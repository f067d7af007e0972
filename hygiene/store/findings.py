"""Findings: what the rules found and what was decided about each, so nothing is judged twice.

A finding's fingerprint is its identity; ``has`` is checked before a rule's finding is acted on.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlite_utils

from hygiene.models import Finding
from hygiene.store.database import iso


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
                "channel": finding.channel,
                "channel_name": finding.channel_name,
                "ts": finding.ts,
                "thread_ts": finding.thread_ts,
                "user": finding.user,
                "score": finding.score,
                "evidence": json.dumps(finding.evidence, ensure_ascii=False),
                "action": action,
                "created_at": iso(now),
            },
            ignore=True,
        )

    def open_offers(self, channel: str, since: str) -> list[Finding]:
        """HY101 findings in a channel that were nudged (a ticket offered) since ``since``."""
        rows = self.db.query(
            "select * from findings where rule = 'HY101' and action = 'nudge' and channel = :channel and ts >= :since",
            {"channel": channel, "since": since},
        )
        return [_offer_from_row(row) for row in rows]

    def all(self) -> list[dict[str, Any]]:
        """Every finding row, oldest first."""
        return list(self.db.query("select * from findings order by created_at, fingerprint"))


def _offer_from_row(row: dict[str, Any]) -> Finding:
    return Finding(
        rule=row["rule"],
        name="request-in-chat",
        channel=row["channel"],
        channel_name=row["channel_name"],
        ts=row["ts"],
        thread_ts=row["thread_ts"],
        user=row["user"],
        text="",
        score=row["score"],
        evidence=json.loads(row["evidence"] or "{}"),
    )
