"""The SQLite store: cursors, messages, findings, the outbox, thread↔ticket links, runs.

One file in WAL mode, written through sqlite-utils. Message text is kept only for a retention
window (``purge_text``); everything else is small. ``atomic()`` groups writes that must land
together — outbox rows and the cursor moves that cover them.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from hygiene.models import Action, ActionKind, ChatMessage, Finding, Ticket
from hygiene.ports import ClientRecord
from hygiene.store.database import Database, StoreError, connect, explain_failure
from hygiene.store.migrations import migrate

NUDGE_KINDS = tuple(
    k.value for k in (ActionKind.THREAD_REPLY, ActionKind.CHANNEL_POST, ActionKind.DM, ActionKind.EPHEMERAL)
)


def _iso(moment: datetime) -> str:
    """Times are stored in UTC, so that their text sorts and compares as time does."""
    return moment.astimezone(UTC).isoformat()


class Store:
    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.schema_version = migrate(db)

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
        return cls(Database(memory=True))

    def close(self) -> None:
        self.db.close()

    @contextmanager
    def atomic(self) -> Iterator[None]:
        with self.db.atomic():
            yield

    # cursors -------------------------------------------------------------------------------
    def cursor(self, key: str) -> Any:
        row = self.db.execute("select value from cursors where key = ?", [key]).fetchone()
        return json.loads(row[0]) if row else None

    def set_cursor(self, key: str, value: Any, now: datetime) -> None:
        self.db.table("cursors").upsert({"key": key, "value": json.dumps(value), "updated_at": _iso(now)}, pk="key")

    # messages ------------------------------------------------------------------------------
    def upsert_message(self, message: ChatMessage, now: datetime) -> str:
        """Store a message; returns ``new``, ``changed`` (text edited or undeleted) or ``same``."""
        reactions = json.dumps([[name, list(users)] for name, users in message.reactions])
        existing = self.db.execute(
            "select text_hash, deleted_at, reply_count, latest_reply, reactions, text is null from messages"
            " where channel = ? and ts = ?",
            [message.channel, message.ts],
        ).fetchone()
        if existing is not None and tuple(existing) == (
            message.content_hash,
            None,
            message.reply_count,
            message.latest_reply,
            reactions,
            0,
        ):
            return "same"
        row = {
            "channel": message.channel,
            "ts": message.ts,
            "channel_name": message.channel_name,
            "thread_ts": message.thread_ts,
            "user": message.user,
            "user_name": message.user_name,
            "text": message.text,
            "plain": message.plain,
            "text_hash": message.content_hash,
            "subtype": message.subtype,
            "is_bot": int(message.is_bot),
            "edited_ts": message.edited_ts,
            "reply_count": message.reply_count,
            "latest_reply": message.latest_reply,
            "reactions": reactions,
            "metadata_event": message.metadata_event,
            "deleted_at": None,
            "updated_at": _iso(now),
        }
        if existing is None:
            row["first_seen"] = _iso(now)
            columns = ", ".join(row)
            self.db.execute(
                f"insert into messages ({columns}) values ({', '.join('?' for _ in row)})", list(row.values())
            )
            return "new"
        assignments = ", ".join(f"{column} = ?" for column in row)
        self.db.execute(
            f"update messages set {assignments} where channel = ? and ts = ?",
            [*row.values(), message.channel, message.ts],
        )
        return "changed" if existing[0] != message.content_hash or existing[1] is not None else "same"

    def mark_deleted(self, channel: str, ts: str, now: datetime) -> bool:
        cursor = self.db.execute(
            "update messages set deleted_at = ?, text = null, plain = null"
            " where channel = ? and ts = ? and deleted_at is null",
            [_iso(now), channel, ts],
        )
        return cursor.rowcount > 0

    def stored_since(self, channel: str, oldest: str) -> list[tuple[str, str | None]]:
        """(ts, thread_ts) of the live messages after ``oldest``: what a complete read must find again."""
        rows = self.db.execute(
            "select ts, thread_ts from messages where channel = ? and ts > ? and deleted_at is null", [channel, oldest]
        )
        return [(row[0], row[1]) for row in rows]

    def thread_heads(self, channel: str, oldest: str) -> dict[str, str | None]:
        """Thread parents since ``oldest`` and the latest reply we hold for each."""
        rows = self.db.execute(
            "select ts, latest_reply from messages where channel = ? and ts >= ? and reply_count > 0"
            " and deleted_at is null",
            [channel, oldest],
        )
        return {row[0]: row[1] for row in rows}

    def threads_answered(self, channel: str, oldest: str) -> set[str]:
        """Threads since ``oldest`` where hygiene itself replied."""
        rows = self.db.execute(
            "select distinct thread_ts from messages where channel = ? and thread_ts >= ?"
            " and metadata_event = 'hygiene_action' and deleted_at is null",
            [channel, oldest],
        )
        return {row[0] for row in rows}

    def messages_since(self, channel: str, oldest: str) -> list[ChatMessage]:
        rows = self.db.query(
            "select * from messages where channel = :channel and deleted_at is null and text is not null"
            " and (ts >= :oldest or thread_ts >= :oldest) order by ts",
            {"channel": channel, "oldest": oldest},
        )
        return [_message_from_row(row) for row in rows]

    def purge_text(self, older_than: datetime) -> int:
        cursor = self.db.execute(
            "update messages set text = null, plain = null where text is not null and updated_at < ?"
            " and cast(ts as real) < ?",
            [_iso(older_than), older_than.timestamp()],
        )
        return cursor.rowcount

    # findings ------------------------------------------------------------------------------
    def has_finding(self, fingerprint: str) -> bool:
        row = self.db.execute("select 1 from findings where fingerprint = ?", [fingerprint]).fetchone()
        return row is not None

    def add_finding(self, finding: Finding, action: str, now: datetime) -> None:
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
                "created_at": _iso(now),
            },
            ignore=True,
        )

    def open_offers(self, channel: str, since: str) -> list[Finding]:
        """HY101 findings in a channel that were nudged (a ticket offered) since ``since``."""
        rows = self.db.query(
            "select * from findings where rule = 'HY101' and action = 'nudge' and channel = :channel and ts >= :since",
            {"channel": channel, "since": since},
        )
        return [
            Finding(
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
            for row in rows
        ]

    def findings(self) -> list[dict[str, Any]]:
        return list(self.db.query("select * from findings order by created_at, fingerprint"))

    # outbox --------------------------------------------------------------------------------
    def enqueue(self, action: Action, now: datetime, not_before: datetime | None = None) -> bool:
        """Write an action down before it is attempted (not before ``not_before``). False when already there."""
        if self.db.execute("select 1 from outbox where key = ?", [action.key]).fetchone():
            return False
        self.db.table("outbox").insert(
            {
                "key": action.key,
                "kind": action.kind.value,
                "status": "pending",
                "fingerprint": action.fingerprint,
                "rule": action.rule,
                "channel": action.channel,
                "thread_ts": action.thread_ts,
                "user": action.user,
                "text": action.text,
                "emoji": action.emoji,
                "attempts": 0,
                "created_at": _iso(now),
                "updated_at": _iso(now),
                "not_before": _iso(not_before) if not_before else None,
                "blocks": action.blocks,
            }
        )
        return True

    def unfinished(self, now: datetime | None = None) -> list[tuple[Action, str, datetime, int]]:
        """Actions not yet done and due by ``now``, oldest first: (action, status, created_at, attempts)."""
        return [(e.action, e.status, e.created_at, e.attempts) for e in self.due(now)]

    def due(self, now: datetime | None = None) -> list[OutboxEntry]:
        """Entries not yet done whose time has come (working hours, next attempt), oldest first."""
        due = _iso(now) if now else "9999"
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
        ts: str | None = None,
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
            "update outbox set status = ?, error = ?, result_ts = coalesce(?, result_ts), updated_at = ?,"
            " attempts = max(0, attempts + ?), next_attempt_at = ?,"
            " last_attempt_at = case when ? = 'sending' then ? else last_attempt_at end,"
            " unknown_since = case when ? = 'unknown' then coalesce(?, unknown_since, ?)"
            " when ? = 'sending' then unknown_since else null end where key = ?",
            [
                status, error, ts, _iso(now), counted, _iso(next_attempt) if next_attempt else None,
                status, _iso(now), status, _iso(now) if fresh_unknown else None, _iso(now), status, key,
            ],
        )  # fmt: skip

    def retry(self, key: str | None, now: datetime) -> int:
        """Re-queue failed (or waiting) entries now: one by key, or all of them (``None``)."""
        where = "status in ('failed', 'pending', 'unknown')" + (" and key = ?" if key else "")
        cursor = self.db.execute(
            f"update outbox set status = case when status = 'failed' then 'pending' else status end,"
            f" next_attempt_at = null, leads_told_at = null, created_at = case when status = 'failed'"
            f" then ? else created_at end, updated_at = ? where {where}",
            [_iso(now), _iso(now), *([key] if key else [])],
        )
        return cursor.rowcount

    def unsettled(self, statuses: tuple[str, ...] = ("pending", "sending", "unknown", "failed")) -> list[OutboxEntry]:
        placeholders = ", ".join("?" for _ in statuses)
        rows = self.db.query(
            f"select * from outbox where status in ({placeholders}) order by created_at, key", list(statuses)
        )
        return [_entry_from_row(row) for row in rows]

    def mark_leads_told(self, key: str, now: datetime) -> None:
        self.db.execute("update outbox set leads_told_at = ? where key = ?", [_iso(now), key])

    def outbox_rows(self) -> list[dict[str, Any]]:
        return list(self.db.query("select * from outbox order by created_at, key"))

    def nudges_to(self, user: str, since: datetime) -> int:
        return self._count_nudges("user = ?", [user], since)

    def nudges_for_rule(self, rule: str, since: datetime) -> int:
        return self._count_nudges("rule = ?", [rule], since)

    def nudges_by_rule(self, since: datetime) -> dict[str, int]:
        """Nudges delivered since ``since``, per rule."""
        placeholders = ", ".join("?" for _ in NUDGE_KINDS)
        rows = self.db.execute(
            f"select rule, count(*) from outbox where status = 'done' and created_at >= ? and kind in ({placeholders})"
            " and rule is not null group by rule",
            [_iso(since), *NUDGE_KINDS],
        )
        return {row[0]: row[1] for row in rows}

    def tickets_created(self, since: datetime) -> int:
        row = self.db.execute(
            "select count(*) from outbox where kind = ? and status = 'done' and created_at >= ?",
            [ActionKind.CREATE_TICKET.value, _iso(since)],
        ).fetchone()
        return int(row[0])

    def disliked_by_rule(self, since: datetime) -> dict[str, int]:
        """Hygiene's own posts seen since ``since`` that someone reacted to with 👎, per rule."""
        rows = self.db.execute(
            "select o.rule, count(*) from messages m join outbox o on o.result_ts = m.ts and o.channel = m.channel"
            " where m.metadata_event = 'hygiene_action' and m.first_seen >= ?"
            " and (m.reactions like '%\"-1\"%' or m.reactions like '%\"thumbsdown\"%') group by o.rule",
            [_iso(since)],
        )
        return {row[0]: row[1] for row in rows if row[0]}

    def save_report(self, day: str, stale: int, by_rule: dict[str, int], now: datetime) -> None:
        self.db.table("reports").upsert(
            {"day": day, "stale": stale, "by_rule": json.dumps(by_rule), "created_at": _iso(now)}, pk="day"
        )

    def previous_report(self, day: str) -> dict[str, Any] | None:
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
            [*params, _iso(since), *NUDGE_KINDS],
        ).fetchone()
        return int(row[0])

    # links and tickets ---------------------------------------------------------------------
    def link(self, channel: str, thread_ts: str, ticket_id: str, helpdesk: str, source: str, now: datetime) -> bool:
        """Link a thread to a ticket; False when it already was (runs every cycle, so no table scans)."""
        cursor = self.db.execute(
            "insert or ignore into links (channel, thread_ts, ticket_id, helpdesk, source, created_at)"
            " values (?, ?, ?, ?, ?, ?)",
            [channel, thread_ts, ticket_id, helpdesk, source, _iso(now)],
        )
        return cursor.rowcount > 0

    def links_of(self, channel: str, thread_ts: str) -> list[str]:
        rows = self.db.execute(
            "select ticket_id from links where channel = ? and thread_ts = ? order by created_at",
            [channel, thread_ts],
        )
        return [row[0] for row in rows]

    def links_for_ticket(self, helpdesk: str, ticket_id: str) -> list[tuple[str, str]]:
        rows = self.db.execute(
            "select channel, thread_ts from links where helpdesk = ? and ticket_id = ? order by created_at",
            [helpdesk, ticket_id],
        )
        return [(row[0], row[1]) for row in rows]

    def save_tickets(self, helpdesk: str, tickets: list[Ticket], now: datetime) -> None:
        self.db.table("tickets").upsert_all(
            (
                {
                    "helpdesk": helpdesk,
                    "id": ticket.id,
                    "number": ticket.number,
                    "data": ticket.model_dump_json(),
                    "synced_at": _iso(now),
                }
                for ticket in tickets
            ),
            pk=("helpdesk", "id"),
        )

    def save_clients(self, helpdesk: str, clients: list[ClientRecord], now: datetime) -> None:
        """Replace the stored client directory with a complete one just read."""
        self.db.execute("delete from helpdesk_clients where helpdesk = ?", [helpdesk])
        self.db.table("helpdesk_clients").insert_all(
            {
                "helpdesk": helpdesk,
                "id": client.id,
                "name": client.name,
                "aliases": json.dumps(list(client.aliases), ensure_ascii=False),
                "synced_at": _iso(now),
            }
            for client in clients
        )

    def clients(self, helpdesk: str) -> list[ClientRecord] | None:
        """The client directory of the last successful read; None when it was never read."""
        if self.cursor(f"helpdesk:{helpdesk}:clients_at") is None:
            return None
        rows = self.db.execute(
            "select id, name, aliases from helpdesk_clients where helpdesk = ? order by name", [helpdesk]
        )
        return [ClientRecord(id=row[0], name=row[1], aliases=tuple(json.loads(row[2] or "[]"))) for row in rows]

    def tickets(self, helpdesk: str) -> list[Ticket]:
        rows = self.db.execute("select data from tickets where helpdesk = ? order by id", [helpdesk])
        return [Ticket.model_validate_json(row[0]) for row in rows]

    def waiting(self) -> int:
        """Actions held back for working or quiet hours."""
        row = self.db.execute("select count(*) from outbox where status = 'pending' and not_before is not null")
        return int(row.fetchone()[0])

    # users ---------------------------------------------------------------------------------
    def slack_id_for_email(self, email: str) -> str | None:
        row = self.db.execute("select user_id from slack_emails where email = ?", [email.lower()]).fetchone()
        return row[0] if row else None

    def remember_email(self, email: str, user_id: str | None, now: datetime) -> None:
        self.db.table("slack_emails").upsert(
            {"email": email.lower(), "user_id": user_id or "", "fetched_at": _iso(now)}, pk="email"
        )

    def knows_email(self, email: str) -> bool:
        return self.db.execute("select 1 from slack_emails where email = ?", [email.lower()]).fetchone() is not None

    def cached_users(self) -> dict[str, tuple[str, bool]]:
        return {row[0]: (row[1], bool(row[2])) for row in self.db.execute("select id, name, is_bot from users")}

    def cache_user(self, user_id: str, name: str, is_bot: bool, now: datetime) -> None:
        self.db.table("users").upsert(
            {"id": user_id, "name": name, "is_bot": int(is_bot), "fetched_at": _iso(now)}, pk="id"
        )

    # runs ----------------------------------------------------------------------------------
    def start_run(self, now: datetime) -> int:
        table = self.db.table("runs").insert({"started_at": _iso(now), "status": "running"})
        return int(table.last_rowid or 0)

    def finish_run(self, run_id: int, now: datetime, status: str, stats: dict[str, Any]) -> None:
        self.db.table("runs").update(run_id, {"finished_at": _iso(now), "status": status, "stats": json.dumps(stats)})

    def runs(self) -> list[dict[str, Any]]:
        return list(self.db.query("select * from runs order by id"))


def _message_from_row(row: dict[str, Any]) -> ChatMessage:
    reactions = tuple((name, tuple(users)) for name, users in json.loads(row["reactions"] or "[]"))
    return ChatMessage(
        channel=row["channel"],
        ts=row["ts"],
        text=row["text"] or "",
        plain=row["plain"] or "",
        user=row["user"],
        user_name=row["user_name"],
        channel_name=row["channel_name"],
        thread_ts=row["thread_ts"],
        subtype=row["subtype"],
        is_bot=bool(row["is_bot"]),
        edited_ts=row["edited_ts"],
        reply_count=row["reply_count"] or 0,
        latest_reply=row["latest_reply"],
        reactions=reactions,
        metadata_event=row["metadata_event"],
    )


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
        thread_ts=row["thread_ts"],
        user=row["user"],
        emoji=row["emoji"],
        fingerprint=row["fingerprint"],
        rule=row["rule"],
        blocks=row.get("blocks"),
    )
