"""The SQLite connection the store is shared through: `run`, `report`, `serve` and `audit` at once.

Every connection is in WAL mode with a busy timeout, and every write transaction starts with
``BEGIN IMMEDIATE``: a deferred transaction that reads and then writes while another process
has committed cannot wait for the lock — SQLite answers ``database is locked`` at once — so the
write lock is taken first, and waited for. Opening failures become a :class:`StoreError` that
names the file and the fix, after ``PRAGMA integrity_check`` says whether the file is damaged.
"""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Generator
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

from hygiene.errors import ConfigError, HygieneError
from hygiene.store.migrations import current_version

BUSY_TIMEOUT_MS = 10_000
BEGIN_ATTEMPTS = 5


def iso(moment: datetime) -> str:
    """Times are stored in UTC, so that their text sorts and compares as time does."""
    return moment.astimezone(UTC).isoformat()


def instant(moment: datetime) -> str:
    """A message's time as stored: UTC with microseconds always written, so that text order is time
    order even between messages in the same second."""
    return moment.astimezone(UTC).isoformat(timespec="microseconds")


class StoreError(HygieneError):
    """The store cannot be opened or used: the message names the path and the fix (exit 1)."""


class Database(sqlite_utils.Database):
    """sqlite-utils' database with write transactions that take the write lock up front."""

    @contextmanager
    def atomic(self) -> Generator[Database, None, None]:
        if self.conn.in_transaction:
            with super().atomic():
                yield self
            return
        begin_immediate(self.conn)
        try:
            yield self
        except BaseException:
            self.rollback()
            raise
        try:
            self.conn.execute("COMMIT")
        except BaseException:
            self.rollback()
            raise


def begin_immediate(conn: sqlite3.Connection) -> None:
    """``BEGIN IMMEDIATE``, retried when even the busy timeout was not enough."""
    for attempt in range(1, BEGIN_ATTEMPTS + 1):
        try:
            conn.execute("BEGIN IMMEDIATE")
            return
        except sqlite3.OperationalError as exc:
            if not is_busy(exc) or attempt == BEGIN_ATTEMPTS:
                raise
            time.sleep(0.05 * attempt)


def is_busy(exc: sqlite3.OperationalError) -> bool:
    return "locked" in str(exc) or "busy" in str(exc)


def prepare_state_dir(folder: Path) -> None:
    """Create ``state_dir`` and prove it writable, or say which path and how to fix it."""
    fix = (
        f"make it writable by the user running hygiene (e.g. sudo install -d -o hygiene {folder}) "
        "or set [hygiene] state_dir to a folder it may write"
    )
    if folder.exists() and not folder.is_dir():
        raise StoreError(f"{folder}: state_dir is not a folder; set [hygiene] state_dir to a folder")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StoreError(f"{folder}: cannot create state_dir ({exc.strerror}); {fix}") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StoreError(f"{folder}: state_dir is not writable; {fix}")


def connect(path: Path) -> Database:
    """Open (creating) the store file in WAL mode with a busy timeout, or raise :class:`StoreError`."""
    prepare_state_dir(path.parent)
    if path.is_dir():
        raise StoreError(f"{path}: is a folder, not the store; move it away (hygiene creates the file)")
    try:
        # implicit transactions (a single UPDATE through db.execute) take the write lock first too
        conn = sqlite3.connect(str(path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level="IMMEDIATE")
    except sqlite3.DatabaseError as exc:
        raise StoreError(explain_failure(path, exc)) from None
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
            conn.execute("PRAGMA journal_mode = wal")
    except sqlite3.DatabaseError as exc:
        conn.close()
        raise StoreError(explain_failure(path, exc)) from None
    return Database(conn)


def explain_failure(path: Path, exc: sqlite3.DatabaseError) -> str:
    """A clear message for a store that failed to open or migrate, checked with integrity_check."""
    if isinstance(exc, sqlite3.OperationalError) and is_busy(exc):
        return f"{path}: the store stayed locked by another hygiene process; try again (or stop the other one)"
    problem = integrity_problem(path)
    if problem is not None:
        return (
            f"{path}: the store is damaged ({problem}); move it aside (mv {path} {path}.broken) and run again — "
            "hygiene starts a new store, re-reading the recent history"
        )
    return f"{path}: cannot use the store: {exc}"


def read_only(path: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_MS / 1000)


def integrity_problem(path: Path) -> str | None:
    """None when ``PRAGMA integrity_check`` says ok, else its first complaint."""
    try:
        with closing(read_only(path)) as conn:
            rows = conn.execute("PRAGMA integrity_check").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    first = str(rows[0][0]) if rows else "no answer"
    return None if first == "ok" else first


@dataclass
class CheckResult:
    """What ``hygiene db check`` found: integrity, schema version and rows per table."""

    path: Path
    problem: str | None
    schema_version: int = 0
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.problem is None


def check(path: Path) -> CheckResult:
    """Check the store read-only (never creates or migrates it); raise StoreError if there is none."""
    if not path.is_file():
        what = "is a folder, not the store; move it away" if path.is_dir() else "no store here yet"
        raise ConfigError(f"hygiene.state_dir: {path}: {what} (`hygiene run` creates the store)")
    problem = integrity_problem(path)
    if problem is not None:
        return CheckResult(path, problem)
    with closing(read_only(path)) as conn:
        db = sqlite_utils.Database(conn)
        version = current_version(db)
        counts = {name: int(db.execute(f'select count(*) from "{name}"').fetchone()[0]) for name in db.table_names()}
    return CheckResult(path, None, version, counts)
