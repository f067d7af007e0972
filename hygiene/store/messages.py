"""Messages: the chat messages read so far, kept so that a cycle can look back over a window.

Message text is kept only for a retention window (``purge_text``); the rest of a row is small.
The mapping between a :class:`ChatMessage` and its row is written once here, both ways.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import sqlite_utils

from hygiene.models import ChatMessage
from hygiene.store.database import iso


def message_to_row(message: ChatMessage) -> dict[str, Any]:
    """The columns of ``messages`` that come from the message itself."""
    return {
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
        "reactions": json.dumps([[name, list(users)] for name, users in message.reactions]),
        "metadata_event": message.metadata_event,
    }


def message_from_row(row: dict[str, Any]) -> ChatMessage:
    """The message a ``messages`` row holds (text empty once purged)."""
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


class Messages:
    """The ``messages`` table, keyed by (channel, ts)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def upsert(self, message: ChatMessage, now: datetime) -> str:
        """Store a message; returns ``new``, ``changed`` (text edited or undeleted) or ``same``."""
        row = message_to_row(message)
        existing = self.db.execute(
            "select text_hash, deleted_at, reply_count, latest_reply, reactions, text is null from messages"
            " where channel = ? and ts = ?",
            [message.channel, message.ts],
        ).fetchone()
        unchanged = (row["text_hash"], None, row["reply_count"], row["latest_reply"], row["reactions"], 0)
        if existing is not None and tuple(existing) == unchanged:
            return "same"
        row |= {"deleted_at": None, "updated_at": iso(now)}
        if existing is None:
            self._insert(row | {"first_seen": iso(now)})
            return "new"
        self._update(row, message)
        return "changed" if existing[0] != message.content_hash or existing[1] is not None else "same"

    def _insert(self, row: dict[str, Any]) -> None:
        columns = ", ".join(row)
        self.db.execute(f"insert into messages ({columns}) values ({', '.join('?' for _ in row)})", list(row.values()))

    def _update(self, row: dict[str, Any], message: ChatMessage) -> None:
        assignments = ", ".join(f"{column} = ?" for column in row)
        self.db.execute(
            f"update messages set {assignments} where channel = ? and ts = ?",
            [*row.values(), message.channel, message.ts],
        )

    def mark_deleted(self, channel: str, ts: str, now: datetime) -> bool:
        """Record that a message is gone (its text too); False when it already was."""
        cursor = self.db.execute(
            "update messages set deleted_at = ?, text = null, plain = null"
            " where channel = ? and ts = ? and deleted_at is null",
            [iso(now), channel, ts],
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

    def since(self, channel: str, oldest: str) -> list[ChatMessage]:
        """The live messages with text in a channel since ``oldest`` (and replies to threads since then)."""
        rows = self.db.query(
            "select * from messages where channel = :channel and deleted_at is null and text is not null"
            " and (ts >= :oldest or thread_ts >= :oldest) order by ts",
            {"channel": channel, "oldest": oldest},
        )
        return [message_from_row(row) for row in rows]

    def purge_text(self, older_than: datetime) -> int:
        """Forget the text of messages older than ``older_than``; returns how many."""
        cursor = self.db.execute(
            "update messages set text = null, plain = null where text is not null and updated_at < ?"
            " and cast(ts as real) < ?",
            [iso(older_than), older_than.timestamp()],
        )
        return cursor.rowcount
