"""The outbox: every action is written down here before it is attempted, and its fate after.

Delivery (``hygiene.outbox``) reads what is due, marks attempts and outcomes, and re-queues;
``hygiene outbox`` lists and retries. An action's key makes enqueueing it twice a no-op.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from hygiene.models import Action, ActionKind
from hygiene.store.database import iso

SETTLING = ("pending", "sending", "unknown", "failed")


@dataclass(frozen=True)
class OutboxEntry:
    """One outbox row as the delivery and ``hygiene outbox`` see it."""

    action: Action
    status: str
    created_at: datetime
    attempts: int
    error: str | None = None
    unknown_since: datetime | None = None
    next_attempt_at: datetime | None = None
    updated_at: datetime | None = None
    leads_told_at: datetime | None = None


class Outbox:
    """The ``outbox`` table, keyed by the action's key."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def enqueue(self, action: Action, now: datetime, not_before: datetime | None = None) -> bool:
        """Write an action down before it is attempted (not before ``not_before``). False when already there."""
        if self.db.execute("select 1 from outbox where key = ?", [action.key]).fetchone():
            return False
        self.db.table("outbox").insert(_row_from_action(action, now, not_before))
        return True

    def unfinished(self, now: datetime | None = None) -> list[tuple[Action, str, datetime, int]]:
        """Actions not yet done and due by ``now``, oldest first: (action, status, created_at, attempts)."""
        return [(e.action, e.status, e.created_at, e.attempts) for e in self.due(now)]

    def due(self, now: datetime | None = None) -> list[OutboxEntry]:
        """Entries not yet done whose time has come (working hours, next attempt), oldest first."""
        due = iso(now) if now else "9999"
        rows = self.db.query(
            "select * from outbox where status in ('pending', 'sending', 'unknown')"
            " and (not_before is null or not_before <= :due)"
            " and (next_attempt_at is null or next_attempt_at <= :due) order by created_at, key",
            {"due": due},
        )
        return [_entry_from_row(row) for row in rows]

    def mark(
        self,
        key: str,
        status: str,
        now: datetime,
        *,
        error: str | None = None,
        result: str | None = None,
        next_attempt: datetime | None = None,
        refund: bool = False,
        fresh_unknown: bool = False,
    ) -> None:
        """Move an entry to ``status``. Marking it ``sending`` is an attempt and counts once;
        ``refund`` takes back an attempt that never reached the remote (a call budget spent).
        ``unknown`` (a write of unknown outcome) keeps the moment it became unknown, unless
        ``fresh_unknown`` (a new try just ended unknown: the settle delay starts again)."""
        counted = -1 if refund else (1 if status == "sending" else 0)
        self.db.execute(
            "update outbox set status = ?, error = ?, result_id = coalesce(?, result_id), updated_at = ?,"
            " attempts = max(0, attempts + ?), next_attempt_at = ?,"
            " last_attempt_at = case when ? = 'sending' then ? else last_attempt_at end,"
            " unknown_since = case when ? = 'unknown' then coalesce(?, unknown_since, ?)"
            " when ? = 'sending' then unknown_since else null end where key = ?",
            [
                status, error, result, iso(now), counted, iso(next_attempt) if next_attempt else None,
                status, iso(now), status, iso(now) if fresh_unknown else None, iso(now), status, key,
            ],
        )  # fmt: skip

    def retry(self, key: str | None, now: datetime) -> int:
        """Re-queue failed (or waiting) entries now: one by key, or all of them (``None``)."""
        where = "status in ('failed', 'pending', 'unknown')" + (" and key = ?" if key else "")
        cursor = self.db.execute(
            f"update outbox set status = case when status = 'failed' then 'pending' else status end,"
            f" next_attempt_at = null, leads_told_at = null, created_at = case when status = 'failed'"
            f" then ? else created_at end, updated_at = ? where {where}",
            [iso(now), iso(now), *([key] if key else [])],
        )
        return cursor.rowcount

    def unsettled(self, statuses: tuple[str, ...] = SETTLING) -> list[OutboxEntry]:
        """Entries in one of ``statuses`` (by default, every one not done or skipped), oldest first."""
        placeholders = ", ".join("?" for _ in statuses)
        rows = self.db.query(
            f"select * from outbox where status in ({placeholders}) order by created_at, key", list(statuses)
        )
        return [_entry_from_row(row) for row in rows]

    def mark_leads_told(self, key: str, now: datetime) -> None:
        """Record that the leads were told about this entry."""
        self.db.execute("update outbox set leads_told_at = ? where key = ?", [iso(now), key])

    def rows(self) -> list[dict[str, Any]]:
        """Every outbox row as stored, oldest first."""
        return list(self.db.query("select * from outbox order by created_at, key"))

    def waiting(self) -> int:
        """Actions held back for working or quiet hours."""
        row = self.db.execute("select count(*) from outbox where status = 'pending' and not_before is not null")
        return int(row.fetchone()[0])


def _row_from_action(action: Action, now: datetime, not_before: datetime | None) -> dict[str, Any]:
    return {
        "key": action.key,
        "kind": action.kind.value,
        "status": "pending",
        "fingerprint": action.fingerprint,
        "rule": action.rule,
        "source": action.source,
        "channel": action.channel,
        "thread_id": action.thread_id,
        "user": action.user,
        "text": action.text,
        "emoji": action.emoji,
        "attempts": 0,
        "created_at": iso(now),
        "updated_at": iso(now),
        "not_before": iso(not_before) if not_before else None,
        "document": action.document,
        "buttons": ",".join(action.buttons) or None,
        "target_id": action.target_id,
        "language": action.language,
    }


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _entry_from_row(row: dict[str, Any]) -> OutboxEntry:
    return OutboxEntry(
        action=_action_from_row(row),
        status=row["status"],
        created_at=datetime.fromisoformat(row["created_at"]),
        attempts=row["attempts"] or 0,
        error=row["error"],
        unknown_since=_when(row.get("unknown_since")),
        next_attempt_at=_when(row.get("next_attempt_at")),
        updated_at=_when(row.get("updated_at")),
        leads_told_at=_when(row.get("leads_told_at")),
    )


def _action_from_row(row: dict[str, Any]) -> Action:
    return Action(
        kind=ActionKind(row["kind"]),
        key=row["key"],
        channel=row["channel"],
        text=row["text"] or "",
        thread_id=row["thread_id"],
        source=row["source"],
        user=row["user"],
        emoji=row["emoji"],
        fingerprint=row["fingerprint"],
        rule=row["rule"],
        document=row.get("document"),
        buttons=tuple(filter(None, (row.get("buttons") or "").split(","))),
        target_id=row.get("target_id"),
        language=row.get("language"),
    )
