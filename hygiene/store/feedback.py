"""Feedback: what people said about the nudges, and every action they took on one.

Labels are ``confirmed`` (a ticket was created from the nudge or the thread linked to one),
``rejected`` ("Not a request", 👎 on the nudge) and ``missed`` (a ticket created from a message
the rules did not flag). One label per message, kind and person: clicking twice counts once.
``interactions`` is the audit trail: who did what on which message, and how it ended.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlite_utils

from hygiene.store.database import iso

LABELS = ("confirmed", "rejected", "missed")


@dataclass(frozen=True)
class Label:
    """One person's word on one message."""

    source: str
    channel: str
    message_id: str
    label: str
    user: str
    how: str
    fingerprint: str | None = None
    rule: str | None = None


class Feedback:
    """The ``feedback`` and ``interactions`` tables."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def add(self, label: Label, now: datetime) -> bool:
        """Record a label; False when this person already said the same about this message."""
        if label.label not in LABELS:
            raise ValueError(f"unknown label {label.label!r}")
        before = self.db.execute("select count(*) from feedback").fetchone()[0]
        self.db.table("feedback").insert({**label.__dict__, "at": iso(now)}, ignore=True)
        return bool(self.db.execute("select count(*) from feedback").fetchone()[0] > before)

    def since(self, since: datetime) -> list[dict[str, Any]]:
        """Every label given since ``since``, oldest first."""
        return list(self.db.query("select * from feedback where at >= ? order by at, id", [iso(since)]))

    def audit(
        self,
        source: str,
        channel: str,
        message_id: str,
        user: str | None,
        intent: str,
        outcome: str,
        now: datetime,
        *,
        fingerprint: str | None = None,
        ticket_ref: str | None = None,
        delivery: str = "",
    ) -> None:
        """Write down one action a person took (allowed or refused, and what came of it)."""
        row = {
            "source": source,
            "channel": channel,
            "message_id": message_id,
            "user": user,
            "intent": intent,
            "fingerprint": fingerprint,
            "ticket_ref": ticket_ref,
            "outcome": outcome,
            "delivery": delivery,
            "at": iso(now),
        }
        self.db.table("interactions").insert(row)

    def interactions(self) -> list[dict[str, Any]]:
        """The audit trail, oldest first."""
        return list(self.db.query("select * from interactions order by id"))

    def nudge_posted_as(self, source: str, channel: str, posted_id: str) -> tuple[str, str] | None:
        """(fingerprint, rule) of the nudge hygiene posted as message ``posted_id``, if it is one."""
        row = self.db.execute(
            "select fingerprint, rule from outbox where source = ? and channel = ? and result_id = ?"
            " and kind = 'thread_reply' and fingerprint is not null and key like '%:reply'",
            [source, channel, posted_id],
        ).fetchone()
        return (row[0], row[1]) if row else None

    def posted_nudge(self, fingerprint: str) -> tuple[str, str, str] | None:
        """(source, channel, posted message id) of the nudge posted for a finding, once posted."""
        row = self.db.execute(
            "select source, channel, result_id from outbox where key = ? and status = 'done'", [f"{fingerprint}:reply"]
        ).fetchone()
        return (row[0], row[1], row[2]) if row and row[2] else None
