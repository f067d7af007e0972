"""The lock file's record of its holder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hygiene.errors import LockHeld
from hygiene.lock import Holder, run_lock


def test_the_lock_records_pid_host_and_start(tmp_path: Path) -> None:
    with run_lock(tmp_path / "hygiene.lock") as broken:
        record = json.loads((tmp_path / "hygiene.lock").read_text())
    assert broken is None
    assert set(record) == {"pid", "host", "started_at"}


def test_an_older_plain_pid_record_is_dated_by_the_file() -> None:
    holder = Holder.parse("4242", modified=1000.0)
    assert holder == Holder(4242, "", 1000.0)
    assert Holder.parse("", modified=5.0).pid is None


def test_without_a_limit_a_held_lock_is_never_broken(tmp_path: Path) -> None:
    with run_lock(tmp_path / "hygiene.lock"), pytest.raises(LockHeld), run_lock(tmp_path / "hygiene.lock"):
        pass
