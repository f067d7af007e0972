"""`run`, `report`, `serve` and `audit` share one store: no `database is locked`, clear errors."""

from __future__ import annotations

import multiprocessing
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.models import ChatMessage, Ticket
from hygiene.store import Store
from hygiene.store.database import StoreError
from hygiene.store.migrations import MIGRATIONS
from tests.conftest import at_of

CONFIG = """
[hygiene]
state_dir = "{state}"
[slack]
channels = ["dia-a-dia"]
"""


def _cycle_writer(path: str, cycles: int, errors: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """What `hygiene run` does to the store: messages and a cursor in one transaction, then tickets."""
    found = []
    for cycle in range(cycles):
        try:
            store = Store.open(Path(path))
            now = datetime.now(UTC)
            with store.atomic():
                for index in range(20):
                    message = ChatMessage(
                        channel="C1",
                        id=f"{cycle}.{index:06d}",
                        at=at_of(f"{cycle}.{index:06d}"),
                        text="x" * 100,
                        plain="x",
                    )
                    store.messages.upsert(message, now)
                store.cursors.set("slack:C1", cycle, now)
            store.tickets.save("files", [Ticket(id=str(n), subject="s", status="open") for n in range(30)], now)
            store.close()
        except (sqlite3.Error, StoreError) as exc:
            found.append(repr(exc))
    errors.put(found)


def _reporter(path: str, reports: int, errors: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    """What `hygiene report` does: read the snapshot and the previous report, save today's."""
    found = []
    for day in range(reports):
        try:
            store = Store.open(Path(path))
            store.reports.previous("2026-11-20")
            store.tickets.all("files")
            store.reports.save(f"2026-{day:04d}", 3, {"HY201": 1}, datetime.now(UTC))
            store.close()
        except (sqlite3.Error, StoreError) as exc:
            found.append(repr(exc))
    errors.put(found)


def test_run_and_report_write_the_same_new_store_at_once(tmp_path: Path) -> None:
    """Before BEGIN IMMEDIATE and a locked migration, 20-40 of these failed with `database is locked`."""
    path = str(tmp_path / "state" / "hygiene.db")
    context = multiprocessing.get_context("fork")
    errors = context.Queue()
    workers = [
        context.Process(target=_cycle_writer, args=(path, 40, errors)),
        context.Process(target=_reporter, args=(path, 150, errors)),
        context.Process(target=_reporter, args=(path, 150, errors)),
    ]
    for worker in workers:
        worker.start()
    found = [error for _ in workers for error in errors.get(timeout=60)]
    for worker in workers:
        worker.join(timeout=60)
    assert found == []
    store = Store.open(Path(path))
    assert store.cursors.get("slack:C1") == 39
    assert store.db.execute("select count(*) from reports").fetchone()[0] == 150


def test_every_connection_waits_for_locks(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "h.db")
    assert store.db.execute("pragma busy_timeout").fetchone()[0] >= 5000
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"
    assert store.db.conn.isolation_level == "IMMEDIATE", "a lone UPDATE takes the write lock before reading"


def _write_config(tmp_path: Path, state: str = "state") -> Path:
    path = tmp_path / "hygiene.toml"
    path.write_text(CONFIG.format(state=state), encoding="utf-8")
    return path


def test_db_check_reports_integrity_version_and_counts(tmp_path: Path) -> None:
    config = _write_config(tmp_path)
    store = Store.open(tmp_path / "state" / "hygiene.db")
    store.reports.save("2026-11-20", 2, {}, datetime.now(UTC))
    store.close()
    result = CliRunner().invoke(cli, ["db", "check", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert f"integrity ok; schema version {len(MIGRATIONS)}, current" in result.output
    assert any(line.split() == ["reports", "1"] for line in result.output.splitlines())


def test_db_check_without_a_store_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["db", "check", "--config", str(_write_config(tmp_path))])
    assert result.exit_code == 2
    assert "no store here yet" in result.output
    assert not (tmp_path / "state" / "hygiene.db").exists(), "a check never creates the store"


def _corrupt(path: Path) -> None:
    Store.open(path).close()
    data = bytearray(path.read_bytes())
    data[100:4096] = b"\xff" * (4096 - 100)
    path.write_bytes(bytes(data))


def test_db_check_says_a_damaged_store_is_damaged(tmp_path: Path) -> None:
    config = _write_config(tmp_path)
    _corrupt(tmp_path / "state" / "hygiene.db")
    result = CliRunner().invoke(cli, ["db", "check", "--config", str(config)])
    assert result.exit_code == 1
    assert "damaged" in result.output and "hygiene.db.broken" in result.output
    assert "Traceback" not in result.output


def test_a_corrupt_store_names_the_path_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "state" / "hygiene.db"
    _corrupt(path)
    with pytest.raises(StoreError, match=r"hygiene.db: the store is damaged .*move it aside"):
        Store.open(path)


def test_a_file_that_is_not_a_database_names_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "hygiene.db"
    path.write_bytes(b"this is not sqlite\n" * 300)
    with pytest.raises(StoreError, match=r"hygiene.db: the store is damaged .*move it aside"):
        Store.open(path)


def test_a_folder_at_the_store_path_is_named(tmp_path: Path) -> None:
    (tmp_path / "hygiene.db").mkdir()
    with pytest.raises(StoreError, match=r"hygiene.db: is a folder, not the store"):
        Store.open(tmp_path / "hygiene.db")


def test_report_with_a_folder_at_the_store_path_is_a_clear_error(tmp_path: Path) -> None:
    config = _write_config(tmp_path)
    (tmp_path / "state" / "hygiene.db").mkdir(parents=True)
    tickets = tmp_path / "t.json"
    tickets.write_text("[]", encoding="utf-8")
    result = CliRunner().invoke(cli, ["report", "--config", str(config), "--tickets", str(tickets)])
    assert result.exit_code == 1
    assert "is a folder, not the store" in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)


def test_an_unwritable_state_dir_names_the_path_and_the_fix(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_text("a file where a folder should be", encoding="utf-8")
    config = _write_config(tmp_path, "blocker/state")
    result = CliRunner().invoke(cli, ["run", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "blocker/state: cannot create state_dir" in result.output
    assert "[hygiene] state_dir" in result.output
    assert isinstance(result.exception, SystemExit)


def test_a_read_only_state_dir_is_refused_before_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Root may write anywhere, so the permission itself is simulated."""
    monkeypatch.setattr("hygiene.store.database.os.access", lambda *_: False)
    with pytest.raises(StoreError, match=r"state_dir is not writable; make it writable"):
        Store.open(tmp_path / "state" / "hygiene.db")
