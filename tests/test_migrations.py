"""A store written by the previous version (schema v3, before chats had sources) migrates, and
the next cycles post nothing twice.

``tests/fixtures/store_v3/`` holds the store as hygiene at commit 82594fc left it after cycle 1
of the demo scenario, and both sandboxes as they were then (see its README). The test replays the
rest of the demo with today's code on a copy of that store and expects the demo's own totals.
"""

from __future__ import annotations

import itertools
import json
import shutil
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from hygiene.clock import FrozenClock
from hygiene.cycle import CycleReport
from hygiene.models import Finding
from hygiene.store import Store
from hygiene.store.migrations import MIGRATIONS
from hygiene.wiring import run_cycle
from sandbox.demo import DEMO_START, count, demo_config
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SCENARIOS, SlackSandbox, SlackState

FIXTURE = Path(__file__).parent / "fixtures" / "store_v3"
SCENARIO = json.loads((SCENARIOS / "accounting.json").read_text(encoding="utf-8"))


def slack_as_saved(clock: FrozenClock) -> SlackState:
    saved = json.loads((FIXTURE / "slack.json").read_text(encoding="utf-8"))
    state = SlackState(clock=clock)
    for name in ("team_id", "team_name", "bot", "tokens", "users", "channels", "messages", "posts", "_last_micros"):
        setattr(state, name, saved[name])
    state._used = set(saved["_used"])
    return state


def gclick_as_saved(clock: FrozenClock) -> GClickState:
    saved = json.loads((FIXTURE / "gclick.json").read_text(encoding="utf-8"))
    state = GClickState(clock=clock)
    for name in ("tasks", "clients", "owners", "activities"):
        setattr(state, name, saved[name])
    state.received = [tuple(item) for item in saved["received"]]
    state._ids = itertools.count(saved["next_id"])
    return state


@pytest.fixture
def old_store(tmp_path: Path) -> Path:
    state_dir = tmp_path / "state"
    state_dir.mkdir()
    shutil.copy(FIXTURE / "store.sqlite", state_dir / "hygiene.db")
    return state_dir


def test_the_v3_store_migrates_with_its_data_keyed_by_the_slack_chat(old_store: Path) -> None:
    store = Store.open(old_store / "hygiene.db")
    try:
        assert store.schema_version == len(MIGRATIONS) == 8
        (sides,) = store.db.execute("select group_concat(distinct author_side) from messages").fetchone()
        assert sides == "team", "every message stored before the client side was the team's"
        sources = {row[0] for row in store.db.execute("select distinct source from messages")}
        assert sources == {"slack"}
        (replies,) = store.db.execute("select count(*) from messages where thread_id != id").fetchone()
        assert replies == 1, "a reply keeps its thread"
        (human,) = store.db.execute("select count(*) from messages where ours = 0 and system is null").fetchone()
        assert human == 17
        at, message_id = store.db.execute("select at, id from messages order by at limit 1").fetchone()
        assert at.endswith("+00:00") and "." in message_id
        keys = {row[0] for row in store.db.execute("select key from cursors")}
        assert "chat:slack:C01DIADIA" in keys and not any(key.startswith("slack:") for key in keys)
        assert store.cursors.get("chat:slack:C01DIADIA")["newest"]
        (created,) = store.db.execute("select count(*) from links where how = 'created'").fetchone()
        assert created == 1
    finally:
        store.close()


def test_fingerprints_written_before_are_found_again(old_store: Path) -> None:
    store = Store.open(old_store / "hygiene.db")
    try:
        rows = store.findings.all()
        message_rows = [row for row in rows if row["message_id"]]
        assert message_rows
        for row in message_rows:
            again = Finding(
                rule=row["rule"],
                name="",
                channel=row["channel"],
                message_id=row["message_id"],
                user=None,
                text="",
                score=0,
                evidence={},
                source=row["source"],
            )
            assert again.fingerprint == row["fingerprint"], "an upgrade must not make old findings new"
    finally:
        store.close()


def test_the_demo_goes_on_after_the_upgrade_and_posts_nothing_twice(old_store: Path) -> None:
    clock = FrozenClock(DEMO_START)
    state, gclick = slack_as_saved(clock), gclick_as_saved(clock)
    posted_before = {key_of(post) for post in state.bot_posts()}
    with SlackSandbox(state) as sandbox, gclick.server() as gclick_server, gclick.credentials_in_env():
        config = demo_config(old_store, sandbox.base_url, gclick_server.base_url)

        def cycle() -> CycleReport:
            return run_cycle(config, clock, sandbox.token)

        for item in SCENARIO["later"]:
            state.post_as(item["user"], item["channel"], item["text"])
        for task_id, task in sorted(gclick.tasks.items()):
            if task["status"] == "P":
                gclick.confirm(task_id)
        for task_id, status in SCENARIO["helpdesk_changes"].items():
            gclick.set_status(task_id, status)
        clock.advance(minutes=12)
        second = cycle()
        new_keys = [key_of(post) for post in state.bot_posts()]
        assert not (set(new_keys[len(posted_before) :]) & posted_before), "nothing of cycle 1 is posted again"
        clock.advance(minutes=2)
        before = len(state.bot_posts())
        third = cycle()
        rerun = len(state.bot_posts()) - before
    assert second.ok and third.ok, (second.errors, third.errors)
    assert max(Counter(new_keys).values()) == 1
    assert count(state, gclick, rerun) == {
        "nudges": 9,
        "tickets_created": 1,
        "status_answers": 1,
        "thread_updates": 2,
        "duplicates_on_rerun": 0,
    }


def key_of(post: dict[str, Any]) -> str:
    return str(((post.get("metadata") or {}).get("event_payload") or {}).get("key", ""))
