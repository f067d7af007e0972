"""Versioned schema migrations for the store. Append new steps; never edit an applied one."""

from __future__ import annotations

import json
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


def _v4_chat_sources(db: sqlite_utils.Database) -> None:
    """Chats have names (sources): messages, findings, outbox rows, links, people and cursors are
    keyed by the chat they belong to, and messages by a neutral id and time instead of Slack's ts.

    Everything written before belonged to the one Slack chat, whose source is ``slack``
    (:data:`hygiene.models.LEGACY_SOURCE`); its findings keep their fingerprints, so an upgrade
    nudges nobody twice.
    """
    db.conn.create_function("v4_instant", 1, _slack_ts_instant, deterministic=True)
    db.conn.create_function("v4_system", 1, _system_event, deterministic=True)
    _rebuild(
        db,
        "messages",
        V4_MESSAGES,
        ("source", "channel", "id"),
        {
            "source": f"'{LEGACY}'",
            "id": "ts",
            "at": "v4_instant(ts)",
            "thread_id": "thread_ts",
            "system": "v4_system(subtype)",
            "edited_at": "v4_instant(edited_ts)",
            "ours": "coalesce(metadata_event = 'hygiene_action', 0)",
        },
    )
    db.execute("create index idx_messages_thread on messages (source, channel, thread_id)")
    db.execute("create index idx_messages_at on messages (source, channel, at)")
    _rebuild(
        db,
        "findings",
        V4_FINDINGS,
        ("fingerprint",),
        {
            "source": f"'{LEGACY}'",
            "message_id": "ts",
            "thread_id": "thread_ts",
        },
    )
    db.execute("create index idx_findings_rule_created on findings (rule, created_at)")
    db.execute("create index idx_findings_message on findings (source, channel, message_id)")
    _rebuild(
        db,
        "outbox",
        V4_OUTBOX,
        ("key",),
        {
            "source": f"'{LEGACY}'",
            "thread_id": "thread_ts",
            "result_id": "result_ts",
            "document": "null",
        },
    )
    db.execute("create index idx_outbox_status on outbox (status)")
    db.execute("create index idx_outbox_user_created on outbox (user, created_at)")
    _rebuild(
        db,
        "links",
        V4_LINKS,
        ("source", "channel", "thread_id", "ticket_id"),
        {
            "source": f"'{LEGACY}'",
            "thread_id": "thread_ts",
            "how": "source",
        },
    )
    db.execute("create index idx_links_ticket on links (helpdesk, ticket_id)")
    db.table("chat_emails").create(
        {"source": str, "email": str, "user_id": str, "fetched_at": str}, pk=("source", "email")
    )
    db.execute(f"insert into chat_emails select '{LEGACY}', email, user_id, fetched_at from slack_emails")
    db.execute("drop table slack_emails")
    _rebuild(
        db,
        "users",
        {"source": str, "id": str, "name": str, "is_bot": int, "fetched_at": str},
        ("source", "id"),
        {
            "source": f"'{LEGACY}'",
        },
    )
    _move_chat_cursors(db)


LEGACY = "slack"
V4_MESSAGES: dict[str, type] = {
    "source": str,
    "channel": str,
    "id": str,
    "at": str,
    "channel_name": str,
    "thread_id": str,
    "user": str,
    "user_name": str,
    "text": str,
    "plain": str,
    "text_hash": str,
    "system": str,
    "is_bot": int,
    "edited_at": str,
    "reply_count": int,
    "latest_reply": str,
    "reactions": str,
    "ours": int,
    "deleted_at": str,
    "first_seen": str,
    "updated_at": str,
}
V4_FINDINGS: dict[str, type] = {
    "fingerprint": str,
    "rule": str,
    "source": str,
    "channel": str,
    "channel_name": str,
    "message_id": str,
    "thread_id": str,
    "user": str,
    "score": float,
    "evidence": str,
    "action": str,
    "created_at": str,
    "feedback": str,
}
V4_OUTBOX: dict[str, type] = {
    "key": str,
    "kind": str,
    "status": str,
    "fingerprint": str,
    "rule": str,
    "source": str,
    "channel": str,
    "thread_id": str,
    "user": str,
    "text": str,
    "emoji": str,
    "attempts": int,
    "error": str,
    "result_id": str,
    "created_at": str,
    "updated_at": str,
    "not_before": str,
    "document": str,
    "next_attempt_at": str,
    "unknown_since": str,
    "last_attempt_at": str,
    "leads_told_at": str,
}
V4_LINKS: dict[str, type] = {
    "source": str,
    "channel": str,
    "thread_id": str,
    "ticket_id": str,
    "helpdesk": str,
    "how": str,
    "created_at": str,
}


def _rebuild(
    db: sqlite_utils.Database, table: str, columns: dict[str, type], pk: tuple[str, ...], computed: dict[str, str]
) -> None:
    """Rebuild ``table`` with ``columns`` and primary key ``pk`` inside the open transaction: each new
    column is copied from the old column of its name, or computed by the SQL in ``computed``."""
    old = set(db.table(table).columns_dict)
    new = f"{table}_v4"
    db.table(new).create(columns, pk=pk[0] if len(pk) == 1 else pk)
    values = [computed.get(name, name if name in old else "null") for name in columns]
    db.execute(f"insert into {new} ({', '.join(columns)}) select {', '.join(values)} from {table}")
    db.execute(f"drop table {table}")
    db.execute(f"alter table {new} rename to {table}")


def _slack_ts_instant(ts: str | None) -> str | None:
    if not ts:
        return None
    try:
        return datetime.fromtimestamp(float(ts), UTC).isoformat(timespec="microseconds")
    except (ValueError, OverflowError, OSError):
        return None


def _system_event(subtype: str | None) -> str | None:
    return subtype if subtype and subtype not in ("thread_broadcast", "file_share") else None


def _move_chat_cursors(db: sqlite_utils.Database) -> None:
    """``slack:{channel}`` (the newest ts read) becomes the Slack connector's bookmark under
    ``chat:slack:{channel}``; read times move with it; the workspace cache is read again."""
    rows = db.execute("select key, value, updated_at from cursors where key like 'slack:%'").fetchall()
    for key, value, updated_at in rows:
        db.execute("delete from cursors where key = ?", [key])
        name = key.removeprefix("slack:")
        if name == "workspace":
            continue
        if name.startswith("read:"):
            moved = (f"chat:{LEGACY}:{name}", value)
        else:
            moved = (f"chat:{LEGACY}:{name}", json.dumps({"newest": json.loads(value), "threads": {}, "answered": []}))
        db.execute("insert or replace into cursors (key, value, updated_at) values (?, ?, ?)", [*moved, updated_at])


def _v5_mentions(db: sqlite_utils.Database) -> None:
    """Who a message mentions (the owner an alert names), kept with the message."""
    db.table("messages").add_column("mentions", str)


def _v6_feedback(db: sqlite_utils.Database) -> None:
    """What people said about the nudges (labels) and every action they took on one (the audit
    trail of ``hygiene serve``); nudges carry buttons and can be edited."""
    db.table("feedback").create(
        {
            "id": int,
            "source": str,
            "channel": str,
            "message_id": str,
            "fingerprint": str,
            "rule": str,
            "label": str,
            "user": str,
            "how": str,
            "at": str,
        },
        pk="id",
    )
    db.table("feedback").create_index(["source", "channel", "message_id", "label", "user"], unique=True)
    db.table("feedback").create_index(["at"])
    db.table("interactions").create(
        {
            "id": int,
            "source": str,
            "channel": str,
            "message_id": str,
            "user": str,
            "intent": str,
            "fingerprint": str,
            "ticket_ref": str,
            "outcome": str,
            "delivery": str,
            "at": str,
        },
        pk="id",
    )
    db.table("outbox").add_column("buttons", str)
    db.table("outbox").add_column("target_id", str)
    db.table("outbox").add_column("language", str)


def _v7_client_side(db: sqlite_utils.Database) -> None:
    """Which side of a conversation a message's author is on (the team, an agent writing to a
    client, the client), when it was sent and the department handling it: what the client-side
    rules judge, kept with the message. Every message stored before was the team's."""
    messages = db.table("messages")
    messages.add_column("author_side", str, not_null_default="team")
    messages.add_column("sent_at", str)
    messages.add_column("department", str)


def _v8_client_hint(db: sqlite_utils.Database) -> None:
    """Which client a client channel's contact is, as the connector's contact mapping says: kept
    with the message so the client-side rules judge stored conversations as they judged them new."""
    db.table("messages").add_column("client_hint", str)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _v1_initial,
    _v2_waiting_and_emails,
    _v3_retries_and_directory,
    _v4_chat_sources,
    _v5_mentions,
    _v6_feedback,
    _v7_client_side,
    _v8_client_hint,
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
