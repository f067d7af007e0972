from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import structlog
from hypothesis import HealthCheck, settings

from hygiene import failpoints, logs
from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.errors import InjectedCrash
from hygiene.store import Store
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState

# Fuzzing profiles (tests/test_fuzz.py): a few hundred examples a target in `make test`, 10,000
# in the bench (HYPOTHESIS_PROFILE=bench, or bench/bench_fuzz.py). No deadline: a slow example
# is not a bug; a hang is caught by the targets' own alarm.
_FUZZ = {"deadline": None, "suppress_health_check": list(HealthCheck), "database": None}
settings.register_profile("ci", max_examples=200, **_FUZZ)
settings.register_profile("bench", max_examples=10_000, **_FUZZ)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))

START = datetime(2026, 11, 18, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo"))
SCENARIO = SCENARIOS / "accounting.json"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("HYGIENE_CONFIG", raising=False)
    monkeypatch.delenv("HYGIENE_FAILPOINTS", raising=False)
    monkeypatch.delenv("SLACK_BOT_TOKEN", raising=False)
    failpoints.disarm_all()
    secrets = set(logs._secrets)
    yield
    failpoints.disarm_all()
    structlog.reset_defaults()  # a test's captured stderr must not outlive it
    logs._secrets.clear()  # a token one test registered ("unused") must not mask another's chat
    logs._secrets.update(secrets)


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(START)


@pytest.fixture
def state(clock: FrozenClock) -> SlackState:
    return SlackState.from_scenario(SCENARIO, clock)


@pytest.fixture
def sandbox(state: SlackState) -> Iterator[SlackSandbox]:
    with SlackSandbox(state) as server:
        yield server


@pytest.fixture
def store() -> Iterator[Store]:
    db = Store.memory()
    yield db
    db.close()


@pytest.fixture
def tickets_file(tmp_path: Path) -> Path:
    path = tmp_path / "tickets.json"
    tickets = json.loads(SCENARIO.read_text(encoding="utf-8"))["tickets"]
    path.write_text(json.dumps(tickets, ensure_ascii=False), encoding="utf-8")
    return path


@contextmanager
def crash_at(failpoint: str) -> Iterator[None]:
    """Run the block with a failpoint armed, expecting the injected crash."""
    failpoints.arm(failpoint)
    try:
        with pytest.raises(InjectedCrash):
            yield
    finally:
        failpoints.disarm_all()


def make_config(tmp_path: Path, base_url: str, tickets: Path | None = None, **sections: Any) -> Config:
    data: dict[str, Any] = {
        "hygiene": {"state_dir": str(tmp_path / "state")},
        "slack": {
            "base_url": base_url,
            "channels": ["dia-a-dia", "fiscal", "departamento-pessoal", "elogios", "support-team"],
            "retries": 2,
            "timeout_seconds": 1,
        },
        "policy": {"cooldown_minutes": 0},
        # chat tests: ticket rules have their own tests (tests/test_tickets.py)
        "rules": {code: {"mode": "off"} for code in ("HY201", "HY202", "HY203")},
    }
    if tickets is not None:
        data["helpdesk"] = {"kind": "files", "path": str(tickets)}
    for section, values in sections.items():
        if section == "rules":
            for code, settings in values.items():
                data["rules"][code] = settings
        else:
            data.setdefault(section, {}).update(values)
    return parse(data)


def at_of(ts: str) -> datetime:
    """The moment a Slack-style ts in a test stands for (tests name messages by such ids)."""
    return datetime.fromtimestamp(float(ts), UTC)
