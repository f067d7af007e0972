"""People: what the chat told us about users, cached so that each is asked about once.

E-mail → chat id lookups (a miss is cached too, as an empty id) and the user names and bot
flags the chat reported.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from hygiene.store.database import iso


class People:
    """The ``chat_emails`` and ``users`` tables, each keyed by the chat (source) they belong to."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def chat_id_for_email(self, source: str, email: str) -> str | None:
        """The chat user id remembered for ``email`` ("" when the chat knew none), None when never asked."""
        row = self.db.execute(
            "select user_id from chat_emails where source = ? and email = ?", [source, email.lower()]
        ).fetchone()
        return row[0] if row else None

    def remember_email(self, source: str, email: str, user_id: str | None, now: datetime) -> None:
        """Remember the chat's answer for ``email``, a miss included."""
        self.db.table("chat_emails").upsert(
            {"source": source, "email": email.lower(), "user_id": user_id or "", "fetched_at": iso(now)},
            pk=("source", "email"),
        )

    def knows_email(self, source: str, email: str) -> bool:
        """Whether the chat was already asked about ``email``."""
        row = self.db.execute("select 1 from chat_emails where source = ? and email = ?", [source, email.lower()])
        return row.fetchone() is not None

    def cached_users(self, source: str) -> dict[str, tuple[str, bool]]:
        """User id → (name, is_bot) for every user of the chat cached."""
        rows = self.db.execute("select id, name, is_bot from users where source = ?", [source])
        return {row[0]: (row[1], bool(row[2])) for row in rows}

    def cache_user(self, source: str, user_id: str, name: str, is_bot: bool, now: datetime) -> None:
        """Remember a user's name and whether it is a bot."""
        self.db.table("users").upsert(
            {"source": source, "id": user_id, "name": name, "is_bot": int(is_bot), "fetched_at": iso(now)},
            pk=("source", "id"),
        )
