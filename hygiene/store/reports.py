"""Reports: the counting queries behind the nudge budgets and the daily report, and saved reports.

The counts read the outbox and messages tables but answer statistics questions (how many nudges,
how many disliked), so they sit together here rather than in the groups that write those rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlite_utils

from hygiene.models import ActionKind
from hygiene.store.database import iso

NUDGE_KINDS = tuple(
    k.value for k in (ActionKind.THREAD_REPLY, ActionKind.CHANNEL_POST, ActionKind.DM, ActionKind.EPHEMERAL)
)


class Reports:
    """Counts over ``outbox`` and ``messages``, and the ``reports`` table (one row per day)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def findings_by_rule(self, since: datetime, rules: Sequence[str]) -> dict[str, int]:
        """Findings of ``rules`` recorded since ``since``, per rule (nudged or not: what was found)."""
        if not rules:
            return {}
        marks = ", ".join("?" for _ in rules)
        rows = self.db.execute(
            f"select rule, count(*) from findings where created_at >= ? and rule in ({marks}) group by rule",
            [iso(since), *rules],
        )
        return {row[0]: row[1] for row in rows}

    def by_department(self, since: datetime, rules: Sequence[str]) -> dict[str, dict[str, int]]:
        """Findings of ``rules`` recorded since ``since``, per department (the evidence's, "" when
        none) and rule: the client side's waiting clients and untracked requests."""
        if not rules:
            return {}
        marks = ", ".join("?" for _ in rules)
        rows = self.db.execute(
            "select coalesce(json_extract(evidence, '$.department'), ''), rule, count(*) from findings"
            f" where created_at >= ? and rule in ({marks}) group by 1, 2 order by 1, 2",
            [iso(since), *rules],
        )
        counts: dict[str, dict[str, int]] = {}
        for department, rule, count in rows:
            counts.setdefault(str(department), {})[str(rule)] = int(count)
        return counts

    def nudges_to(self, user: str, since: datetime) -> int:
        """Nudges to ``user`` queued since ``since`` (not skipped)."""
        return self._count_nudges("user = ?", [user], since)

    def nudges_for_rule(self, rule: str, since: datetime) -> int:
        """Nudges for ``rule`` queued since ``since`` (not skipped)."""
        return self._count_nudges("rule = ?", [rule], since)

    def nudges_by_rule(self, since: datetime) -> dict[str, int]:
        """Nudges delivered since ``since``, per rule."""
        placeholders = ", ".join("?" for _ in NUDGE_KINDS)
        rows = self.db.execute(
            f"select rule, count(*) from outbox where status = 'done' and created_at >= ? and kind in ({placeholders})"
            " and rule is not null group by rule",
            [iso(since), *NUDGE_KINDS],
        )
        return {row[0]: row[1] for row in rows}

    def tickets_created(self, since: datetime) -> int:
        """Tickets hygiene created since ``since``."""
        row = self.db.execute(
            "select count(*) from outbox where kind = ? and status = 'done' and created_at >= ?",
            [ActionKind.CREATE_TICKET.value, iso(since)],
        ).fetchone()
        return int(row[0])

    def disliked_by_rule(self, since: datetime) -> dict[str, int]:
        """Hygiene's own posts seen since ``since`` that someone reacted to with 👎, per rule."""
        rows = self.db.execute(
            "select o.rule, count(*) from messages m join outbox o on o.result_id = m.id and o.channel = m.channel"
            " and o.source = m.source where m.ours = 1 and m.first_seen >= ?"
            " and (m.reactions like '%\"-1\"%' or m.reactions like '%\"thumbsdown\"%') group by o.rule",
            [iso(since)],
        )
        return {row[0]: row[1] for row in rows if row[0]}

    def save(self, day: str, stale: int, by_rule: dict[str, int], now: datetime) -> None:
        """Keep the day's report figures, to compare the next report against."""
        self.db.table("reports").upsert(
            {"day": day, "stale": stale, "by_rule": json.dumps(by_rule), "created_at": iso(now)}, pk="day"
        )

    def previous(self, day: str) -> dict[str, Any] | None:
        """The last report saved before ``day``."""
        row = self.db.execute(
            "select day, stale, by_rule from reports where day < ? order by day desc limit 1", [day]
        ).fetchone()
        return {"day": row[0], "stale": row[1], "by_rule": json.loads(row[2])} if row else None

    def _count_nudges(self, where: str, params: list[Any], since: datetime) -> int:
        placeholders = ", ".join("?" for _ in NUDGE_KINDS)
        row = self.db.execute(
            f"select count(*) from outbox where {where} and created_at >= ? and kind in ({placeholders})"
            " and status != 'skipped'",
            [*params, iso(since), *NUDGE_KINDS],
        ).fetchone()
        return int(row[0])
