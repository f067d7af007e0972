"""Versioned schema migrations for the store. Append new steps; never edit an applied one."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import sqlite_utils


def _v1_initial(db: sqlite_utils.Database) -> None:
    db.table("cursors").create({"key": str, "value": str, "updated_at": str}, pk="key")
    db.table("messages").create(
        {
            "channel": str,
            "ts": str,
            "channel_name": str,
            "thread_ts": str,
            "user": str,
            "user_name": str,
            "text": str,
            "plain": str,
            "text_hash": str,
            "subtype": str,
            "is_bot": int,
            "edited_ts": str,
            "reply_count": int,
            "latest_reply": str,
            "reactions": str,
            "metadata_event": str,
            "deleted_at": str,
            "first_seen": str,
            "updated_at": str,
        },
        pk=("channel", "ts"),
    )
    db.table("messages").create_index(["channel", "thread_ts"])
    db.table("findings").create(
        {
            "fingerprint": str,
            "rule": str,
            "channel": str,
            "channel_name": str,
            "ts": str,
            "thread_ts": str,
            "user": str,
            "score": float,
            "evidence": str,
            "action": str,
            "created_at": str,
            "feedback": str,
        },
        pk="fingerprint",
    )
    db.table("findings").create_index(["rule", "created_at"])
    db.table("outbox").create(
        {
            "key": str,
            "kind": str,
            "status": str,
            "fingerprint": str,
            "rule": str,
            "channel": str,
            "thread_ts": str,
            "user": str,
            "text": str,
            "emoji": str,
            "attempts": int,
            "error": str,
            "result_ts": str,
            "created_at": str,
            "updated_at": str,
        },
        pk="key",
    )
    db.table("outbox").create_index(["status"])
    db.table("outbox").create_index(["user", "created_at"])
    db.table("links").create(
        {
            "channel": str,
            "thread_ts": str,
            "ticket_id": str,
            "helpdesk": str,
            "source": str,
            "created_at": str,
        },
        pk=("channel", "thread_ts", "ticket_id"),
    )
    db.table("tickets").create(
        {"helpdesk": str, "id": str, "number": str, "data": str, "synced_at": str},
        pk=("helpdesk", "id"),
    )
    db.table("tickets").create_index(["helpdesk", "number"])
    db.table("runs").create(
        {"id": int, "started_at": str, "finished_at": str, "status": str, "stats": str},
        pk="id",
    )
    db.table("users").create({"id": str, "name": str, "is_bot": int, "fetched_at": str}, pk="id")


def _v2_waiting_and_emails(db: sqlite_utils.Database) -> None:
    """Actions that wait for working hours; Slack ids found by e-mail; report snapshots."""
    db.table("outbox").add_column("not_before", str)
    db.table("outbox").add_column("blocks", str)
    db.table("slack_emails").create({"email": str, "user_id": str, "fetched_at": str}, pk="email")
    db.table("reports").create({"day": str, "stale": int, "by_rule": str, "created_at": str}, pk="day")


def _v3_retries_and_directory(db: sqlite_utils.Database) -> None:
    """Outbox retries with a next-attempt time, writes of unknown outcome re-checked by key, leads
    told once; the helpdesk's client directory from the last successful sync."""
    db.table("outbox").add_column("next_attempt_at", str)
    db.table("outbox").add_column("unknown_since", str)
    db.table("outbox").add_column("last_attempt_at", str)
    db.table("outbox").add_column("leads_told_at", str)
    db.table("helpdesk_clients").create(
        {"helpdesk": str, "id": str, "name": str, "aliases": str, "synced_at": str},
        pk=("helpdesk", "id"),
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1_initial,
    _v2_waiting_and_emails,
    _v3_retries_and_directory,
]


def current_version(db: sqlite_utils.Database) -> int:
    if "schema_migrations" not in db.table_names():
        return 0
    row = db.execute("select max(version) from schema_migrations").fetchone()
    return int(row[0] or 0)


def migrate(db: sqlite_utils.Database) -> int:
    """Apply every migration not yet applied, each in its own transaction. Returns the version.

    The table of versions is created under the write lock, so two processes opening a new store
    at once do not both create it.
    """
    if "schema_migrations" not in db.table_names():
        with db.atomic():
            if "schema_migrations" not in db.table_names():
                db.table("schema_migrations").create({"version": int, "applied_at": str}, pk="version")
    version = current_version(db)
    for number, step in enumerate(MIGRATIONS[version:], start=version + 1):
        with db.atomic():
            if current_version(db) >= number:
                continue
            step(db)
            db.table("schema_migrations").insert({"version": number, "applied_at": datetime.now(UTC).isoformat()})
    return len(MIGRATIONS)
