"""Ticket rules in the cycle: owners reached in Slack, department channels, working hours."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from hygiene.clock import FrozenClock
from hygiene.config import Config
from hygiene.store import Store
from sandbox.slack_api import SlackSandbox, SlackState
from tests.conftest import make_config
from tests.test_engine import cycle

SP = ZoneInfo("America/Sao_Paulo")
TICKETS = [
    {
        "id": "4533",
        "subject": "Notas",
        "client": "Padaria Pão Quente",
        "status": "pending",
        "priority": "high",
        "assignee": "Marina Souza",
        "assignee_email": "marina@horizonte.example",
        "department": "Fiscal",
        "created_at": "2026-11-12T14:00:00",
        "updated_at": "2026-11-16T16:30:00",
    },
    {
        "id": "4600",
        "subject": "Alteração contratual",
        "status": "open",
        "department": "Fiscal",
        "created_at": "2026-11-18T08:00:00",
    },
    {
        "id": "4601",
        "subject": "Sem dono conhecido",
        "status": "pending",
        "priority": "urgent",
        "assignee": "Fulano",
        "department": "Outro",
        "created_at": "2026-11-16T08:00:00",
        "updated_at": "2026-11-16T09:00:00",
    },
]


def setup(tmp_path: Path, sandbox: SlackSandbox, **sections: dict) -> Config:  # type: ignore[type-arg]
    path = tmp_path / "tickets.json"
    path.write_text(json.dumps(TICKETS), encoding="utf-8")
    rules = {code: {"mode": "off"} for code in ("HY101", "HY102", "HY103", "HY104", "HY105", "HY106")}
    rules |= {code: {"mode": "nudge"} for code in ("HY201", "HY202", "HY203")}
    return make_config(
        tmp_path, sandbox.base_url, path, rules=rules, report={"department_channels": {"Fiscal": "fiscal"}}, **sections
    )


def posts_by_kind(state: SlackState) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for post in state.bot_posts():
        found.setdefault(post["kind"], []).append(post["text"])
    return found


def test_owners_get_a_dm_and_unowned_tickets_go_to_the_department(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    config = setup(tmp_path, sandbox)
    report = cycle(config, clock, sandbox)
    assert report.findings == {"HY201": 2, "HY202": 1}
    posts = posts_by_kind(state)
    assert len(posts["dm"]) == 1 and "#4533" in posts["dm"][0] and "Marina Souza" in posts["dm"][0]
    assert len(posts["message"]) == 1 and "#4600" in posts["message"][0] and "sem responsável" in posts["message"][0]
    dm_channel = next(p["channel"] for p in state.bot_posts() if p["kind"] == "dm")
    assert state.channels[dm_channel]["user"] == "U02MARINA", "found by e-mail with users.lookupByEmail"
    decisions = sorted((row["rule"], row["action"]) for row in Store.open(config.store_path).findings.all())
    assert decisions == [("HY201", "nudge"), ("HY201", "suppressed:no_recipient"), ("HY202", "nudge")]
    rerun = cycle(config, clock, sandbox)
    assert rerun.findings == {} and rerun.sent == 0


def test_explicit_people_map_and_no_recipient(tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox) -> None:
    config = setup(tmp_path, sandbox, people={"slack_ids": {"Fulano": "U05PEDRO"}, "lookup_by_email": False})
    cycle(config, clock, sandbox)
    actions = [row["action"] for row in Store.open(config.store_path).findings.all()]
    assert actions == ["nudge", "nudge", "nudge"], "Fulano by the map, Marina by her department's channel"


def test_nudges_wait_for_working_hours(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    config = setup(tmp_path, sandbox)
    night = FrozenClock(datetime(2026, 11, 18, 20, 0, tzinfo=SP))
    report = cycle(config, night, sandbox)
    assert report.enqueued == 2 and report.sent == 0, "written down, not posted at 20:00"
    assert Store.open(config.store_path).outbox.waiting() == 2
    night.advance(hours=11)  # Thursday 07:00: still closed
    assert cycle(config, night, sandbox).sent == 0
    night.advance(hours=1, minutes=5)  # 08:05
    assert cycle(config, night, sandbox).sent == 2
    assert len(state.bot_posts()) == 2


def test_a_stale_ticket_fires_again_after_a_new_update_goes_stale(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox
) -> None:
    config = setup(tmp_path, sandbox)
    assert cycle(config, clock, sandbox).findings.get("HY201") == 2
    tickets = json.loads(config.helpdesk.path.read_text())  # type: ignore[union-attr]
    tickets[0]["updated_at"] = "2026-11-18T10:00:00"
    config.helpdesk.path.write_text(json.dumps(tickets))  # type: ignore[union-attr]
    clock.advance(hours=1)
    assert cycle(config, clock, sandbox).findings.get("HY201") is None, "fresh again"
    clock.advance(days=1)
    assert cycle(config, clock, sandbox).findings.get("HY201") == 1, "stale again: a new episode"
