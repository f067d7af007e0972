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
from hygiene.store.database import instant, iso


def message_to_row(message: ChatMessage) -> dict[str, Any]:
    """The columns of ``messages`` that come from the message itself."""
    return {
        "source": message.source,
        "channel": message.channel,
        "id": message.id,
        "at": instant(message.at),
        "channel_name": message.channel_name,
        "thread_id": message.thread_id,
        "user": message.user,
        "user_name": message.user_name,
        "text": message.text,
        "plain": message.plain,
        "text_hash": message.content_hash,
        "system": message.system,
        "is_bot": int(message.is_bot),
        "edited_at": instant(message.edited_at) if message.edited_at else None,
        "reply_count": message.reply_count,
        "latest_reply": message.latest_reply,
        "reactions": json.dumps([[name, list(users)] for name, users in message.reactions]),
        "ours": int(message.ours),
        "mentions": json.dumps(list(message.mentions)),
        "author_side": message.author_side,
        "sent_at": instant(message.sent_at) if message.sent_at else None,
        "department": message.department,
        "client_hint": message.client_hint,
    }


def message_from_row(row: dict[str, Any]) -> ChatMessage:
    """The message a ``messages`` row holds (text empty once purged)."""
    reactions = tuple((name, tuple(users)) for name, users in json.loads(row["reactions"] or "[]"))
    return ChatMessage(
        source=row["source"],
        channel=row["channel"],
        id=row["id"],
        at=datetime.fromisoformat(row["at"]),
        text=row["text"] or "",
        plain=row["plain"] or "",
        user=row["user"],
        user_name=row["user_name"],
        channel_name=row["channel_name"],
        thread_id=row["thread_id"],
        system=row["system"],
        is_bot=bool(row["is_bot"]),
        edited_at=datetime.fromisoformat(row["edited_at"]) if row["edited_at"] else None,
        reply_count=row["reply_count"] or 0,
        latest_reply=row["latest_reply"],
        reactions=reactions,
        ours=bool(row["ours"]),
        mentions=tuple(json.loads(row.get("mentions") or "[]")),
        author_side=row.get("author_side") or "team",
        sent_at=datetime.fromisoformat(row["sent_at"]) if row.get("sent_at") else None,
        department=row.get("department"),
        client_hint=row.get("client_hint"),
    )


class Messages:
    """The ``messages`` table, keyed by (source, channel, id)."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def upsert(self, message: ChatMessage, now: datetime) -> str:
        """Store a message; returns ``new``, ``changed`` (text edited or undeleted) or ``same``. A new
        client hint (the contact mapped since) is stored too, as ``same``: the text did not change."""
        row = message_to_row(message)
        existing = self.db.execute(
            "select text_hash, deleted_at, reply_count, latest_reply, reactions, text is null, client_hint"
            " from messages where source = ? and channel = ? and id = ?",
            [message.source, message.channel, message.id],
        ).fetchone()
        unchanged = (
            row["text_hash"],
            None,
            row["reply_count"],
            row["latest_reply"],
            row["reactions"],
            0,
            row["client_hint"],
        )
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
            f"update messages set {assignments} where source = ? and channel = ? and id = ?",
            [*row.values(), message.source, message.channel, message.id],
        )

    def mark_deleted(self, source: str, channel: str, message_id: str, now: datetime) -> bool:
        """Record that a message is gone (its text too); False when it already was."""
        cursor = self.db.execute(
            "update messages set deleted_at = ?, text = null, plain = null"
            " where source = ? and channel = ? and id = ? and deleted_at is null",
            [iso(now), source, channel, message_id],
        )
        return cursor.rowcount > 0

    def stored_since(self, source: str, channel: str, since: datetime) -> list[tuple[str, str | None]]:
        """(id, thread_id) of the live messages posted from ``since`` on: what a complete read must find again."""
        rows = self.db.execute(
            "select id, thread_id from messages where source = ? and channel = ? and at >= ? and deleted_at is null",
            [source, channel, instant(since)],
        )
        return [(row[0], row[1]) for row in rows]

    def since(self, source: str, channel: str, since: datetime) -> list[ChatMessage]:
        """The live messages with text in a channel from ``since`` on, and every reply of the threads
        that started then, in time order."""
        rows = self.db.query(
            "select * from messages where source = :source and channel = :channel and deleted_at is null"
            " and text is not null and (at >= :since or thread_id in (select id from messages"
            " where source = :source and channel = :channel and at >= :since and reply_count > 0))"
            " order by at, id",
            {"source": source, "channel": channel, "since": instant(since)},
        )
        return [message_from_row(row) for row in rows]

    def get(self, source: str, channel: str, message_id: str) -> ChatMessage | None:
        """One live message with text, None when it is not stored (or gone)."""
        rows = list(
            self.db.query(
                "select * from messages where source = ? and channel = ? and id = ?"
                " and deleted_at is null and text is not null",
                [source, channel, message_id],
            )
        )
        return message_from_row(rows[0]) if rows else None

    def thread(self, source: str, channel: str, thread_id: str) -> list[ChatMessage]:
        """A thread's live messages with text (its root and replies), in time order."""
        rows = self.db.query(
            "select * from messages where source = ? and channel = ? and (id = ? or thread_id = ?)"
            " and deleted_at is null and text is not null order by at, id",
            [source, channel, thread_id, thread_id],
        )
        return [message_from_row(row) for row in rows]

    def purge_text(self, source: str, older_than: datetime) -> int:
        """Forget the text of a chat's messages older than ``older_than``; returns how many."""
        cursor = self.db.execute(
            "update messages set text = null, plain = null where source = ? and text is not null and updated_at < ?"
            " and at < ?",
            [source, iso(older_than), instant(older_than)],
        )
        return cursor.rowcount
