"""People: what the chat told us about users, cached so that each is asked about once.

E-mail → chat id lookups (a miss is cached too, as an empty id) and the user names and bot
flags the chat reported.
"""

from __future__ import annotations

from datetime import datetime

import sqlite_utils

from hygiene.store.database import iso


class People:
    """The ``slack_emails`` and ``users`` tables."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db

    def chat_id_for_email(self, email: str) -> str | None:
        """The chat user id remembered for ``email`` ("" when the chat knew none), None when never asked."""
        row = self.db.execute("select user_id from slack_emails where email = ?", [email.lower()]).fetchone()
        return row[0] if row else None

    def remember_email(self, email: str, user_id: str | None, now: datetime) -> None:
        """Remember the chat's answer for ``email``, a miss included."""
        self.db.table("slack_emails").upsert(
            {"email": email.lower(), "user_id": user_id or "", "fetched_at": iso(now)}, pk="email"
        )

    def knows_email(self, email: str) -> bool:
        """Whether the chat was already asked about ``email``."""
        return self.db.execute("select 1 from slack_emails where email = ?", [email.lower()]).fetchone() is not None

    def cached_users(self) -> dict[str, tuple[str, bool]]:
        """User id → (name, is_bot) for every user cached."""
        return {row[0]: (row[1], bool(row[2])) for row in self.db.execute("select id, name, is_bot from users")}

    def cache_user(self, user_id: str, name: str, is_bot: bool, now: datetime) -> None:
        """Remember a user's name and whether it is a bot."""
        self.db.table("users").upsert(
            {"id": user_id, "name": name, "is_bot": int(is_bot), "fetched_at": iso(now)}, pk="id"
        )
