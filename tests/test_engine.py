"""Whole cycles against the sandbox: incremental reads, edits, deletions, exactly-once nudges."""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from hygiene.cli import summary_line
from hygiene.clock import FrozenClock
from hygiene.config import Config
from hygiene.cycle import CycleReport
from hygiene.errors import ConfigError
from hygiene.store import Store
from hygiene.wiring import run_cycle
from sandbox.slack_api import SlackSandbox, SlackState
from tests.conftest import crash_at, make_config


def cycle(config: Config, clock: FrozenClock, sandbox: SlackSandbox) -> CycleReport:
    return run_cycle(config, clock, sandbox.token)


def nudge_keys(state: SlackState) -> list[str]:
    return [p["metadata"]["event_payload"]["key"] for p in state.bot_posts() if p.get("metadata")]


@pytest.fixture
def config(tmp_path: Path, sandbox: SlackSandbox, tickets_file: Path) -> Config:
    return make_config(tmp_path, sandbox.base_url, tickets_file)


def test_first_cycle_nudges_and_a_rerun_posts_nothing(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    first = cycle(config, clock, sandbox)
    assert first.ok
    assert first.findings == {"HY101": 4, "HY105": 1}
    assert first.sent == 5
    clock.advance(minutes=1)
    second = cycle(config, clock, sandbox)
    assert second.sent == 0
    assert second.findings == {}
    assert len(state.bot_posts()) == 5


def test_nudges_are_thread_replies_with_the_fingerprint_in_metadata(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    cycle(config, clock, sandbox)
    store = Store.open(config.store_path)
    findings = {f["fingerprint"]: f for f in store.findings.all()}
    for post in state.bot_posts():
        assert post["kind"] == "thread_reply"
        payload = post["metadata"]["event_payload"]
        fingerprint = payload["key"].split(":")[0]
        assert findings[fingerprint]["message_id"] == post["thread_ts"]
        assert payload["rule"] == findings[fingerprint]["rule"]


def test_edits_are_applied_through_the_rescan_window(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    ts = state.post_as("U06ANA", "dia-a-dia", "Reunião às 15h")
    clock.advance(minutes=1)
    cycle(config, clock, sandbox)
    state.edit("dia-a-dia", ts, "O cliente Brascont pediu o envio do balancete de outubro até sexta.")
    clock.advance(minutes=10)
    report = cycle(config, clock, sandbox)
    assert report.changed == 1
    assert report.findings.get("HY101") == 1, "an edited message is judged on its new text"
    row = (
        Store.open(config.store_path).db.execute("select plain, edited_at from messages where id = ?", [ts]).fetchone()
    )
    assert row[0].startswith("O cliente Brascont pediu") and row[1]


def test_deletions_are_applied_through_the_rescan_window(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    ts = state.post_as("U06ANA", "dia-a-dia", "Mensagem que vai sumir")
    clock.advance(minutes=1)
    cycle(config, clock, sandbox)
    state.delete("dia-a-dia", ts)
    clock.advance(minutes=1)
    report = cycle(config, clock, sandbox)
    assert report.deleted == 1
    row = (
        Store.open(config.store_path).db.execute("select deleted_at, text from messages where id = ?", [ts]).fetchone()
    )
    assert row[0] is not None and row[1] is None


def test_the_cursor_does_not_move_past_a_failure(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    state.inject("conversations.history", "server_error", times=3)  # all attempts for the first channel
    report = cycle(config, clock, sandbox)
    assert not report.ok
    assert report.incomplete_channels == ["dia-a-dia"]
    store = Store.open(config.store_path)
    assert store.cursors.get("chat:slack:C01DIADIA") is None
    assert store.cursors.get("chat:slack:C02FISCAL") is not None
    clock.advance(minutes=1)
    retry = cycle(config, clock, sandbox)
    assert retry.ok
    assert Store.open(config.store_path).cursors.get("chat:slack:C01DIADIA") is not None
    assert retry.findings == {"HY101": 1}, "the request in #dia-a-dia is judged once the channel is read"


def test_a_crash_between_posting_and_recording_never_posts_twice(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    with crash_at("outbox.after_send"):
        cycle(config, clock, sandbox)
    assert len(state.bot_posts()) == 1, "the crash came right after the first post"
    clock.advance(minutes=1)
    rerun = cycle(config, clock, sandbox)
    assert rerun.recovered == 1
    keys = nudge_keys(state)
    assert len(keys) == 5
    assert Counter(keys).most_common(1)[0][1] == 1, "no nudge was posted twice"
    statuses = {row["status"] for row in Store.open(config.store_path).outbox.rows()}
    assert statuses == {"done"}


def test_a_crash_before_the_channel_commits_loses_nothing(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    with crash_at("engine.before_commit"):
        cycle(config, clock, sandbox)
    store = Store.open(config.store_path)
    assert store.outbox.rows() == [] and store.cursors.get("chat:slack:C01DIADIA") is None
    assert state.bot_posts() == []
    report = cycle(config, clock, sandbox)
    assert report.sent == 5
    assert len(set(nudge_keys(state))) == len(nudge_keys(state)) == 5


def test_a_post_of_unknown_outcome_is_looked_for_then_resent_once_after_settling(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    state.inject("chat.postMessage", "server_error")  # a 5xx after sending: maybe posted, never resent blind
    first = cycle(config, clock, sandbox)
    assert first.sent == 4 and first.unknown == 1 and first.failed == 0
    rows = Store.open(config.store_path).outbox.rows()
    (unknown,) = [row for row in rows if row["status"] == "unknown"]
    assert unknown["attempts"] == 1, "one attempt counts once"
    clock.advance(minutes=1)  # inside the settle delay: looked for, not resent
    cycle(config, clock, sandbox)
    assert nudge_keys(state).count(unknown["key"]) == 0
    clock.advance(minutes=2)
    cycle(config, clock, sandbox)
    keys = nudge_keys(state)
    assert keys.count(unknown["key"]) == 1
    assert len(keys) == len(set(keys))


def test_a_late_answer_to_a_post_that_was_carried_out_is_not_posted_twice(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    state.inject("chat.postMessage", "late", delay=1.5)  # posted, answered after the 1 s timeout
    first = cycle(config, clock, sandbox)
    assert first.recovered == 1 and first.sent == 4, "found by its key in the same cycle"
    keys = nudge_keys(state)
    assert len(keys) == len(set(keys)) == 5


def test_a_write_that_lands_after_the_recovery_check_is_not_sent_again(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    state.inject("chat.postMessage", "timeout", delay=1.6)  # lands 0.6 s after the client gave up
    first = cycle(config, clock, sandbox)
    assert first.unknown == 1
    deadline = time.monotonic() + 5
    while len(state.bot_posts()) < 5 and time.monotonic() < deadline:
        time.sleep(0.05)
    for minutes in (1, 3, 3):
        clock.advance(minutes=minutes)
        cycle(config, clock, sandbox)
    keys = nudge_keys(state)
    assert len(keys) == len(set(keys)) >= 5


def test_dry_run_records_findings_and_posts_nothing(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, tickets_file: Path
) -> None:
    config = make_config(tmp_path, sandbox.base_url, tickets_file, hygiene={"dry_run": True})
    report = cycle(config, clock, sandbox)
    assert report.decisions == {"suppressed:dry_run": 5}
    assert state.bot_posts() == []


def test_rules_can_be_switched_off_per_channel(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, tickets_file: Path
) -> None:
    config = make_config(
        tmp_path,
        sandbox.base_url,
        tickets_file,
        rules={"HY101": {"channels": {"support-team": {"mode": "off"}, "fiscal": {"mode": "report"}}}},
    )
    report = cycle(config, clock, sandbox)
    assert report.findings == {"HY101": 3, "HY105": 1}
    assert report.decisions == {"nudge": 3, "report": 1}


def test_cooldown_and_daily_budget_protect_people(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, tickets_file: Path
) -> None:
    for client in ("Brascont", "Acme Corp", "Globex"):
        state.post_as("U03JOAO", "dia-a-dia", f"O cliente {client} pediu a segunda via do boleto de outubro.")
    clock.advance(minutes=6)
    config = make_config(tmp_path, sandbox.base_url, tickets_file, policy={"cooldown_minutes": 60})
    report = cycle(config, clock, sandbox)
    assert report.decisions.get("suppressed:cooldown") == 3, "João gets one nudge, not four"
    config = make_config(
        tmp_path / "b", sandbox.base_url, tickets_file, policy={"cooldown_minutes": 0, "daily_budget_per_person": 2}
    )
    report = cycle(config, clock, sandbox)
    assert report.decisions.get("suppressed:daily_budget") == 2


def test_old_messages_are_recorded_but_not_nudged(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, tickets_file: Path
) -> None:
    config = make_config(tmp_path, sandbox.base_url, tickets_file, slack={"nudge_max_age_minutes": 49})
    report = cycle(config, clock, sandbox)
    assert report.decisions == {"suppressed:too_old": 3, "nudge": 2}


def test_a_ticket_reference_in_the_thread_prevents_the_nudge(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    ts = state.post_as("U03JOAO", "dia-a-dia", "O cliente Globex pediu a alteração do contrato social.")
    clock.advance(minutes=2)
    state.post_as("U05PEDRO", "dia-a-dia", "Abri o atendimento 4600 pra isso", thread_ts=ts)
    clock.advance(minutes=5)
    cycle(config, clock, sandbox)
    assert ts not in [p.get("thread_ts") for p in state.bot_posts()]


def test_run_records_count_api_calls(config: Config, clock: FrozenClock, sandbox: SlackSandbox) -> None:
    report = cycle(config, clock, sandbox)
    runs = Store.open(config.store_path).runs.all()
    assert runs[-1]["status"] == "ok"
    assert report.calls["conversations.history"] == 5
    assert report.calls["chat.postMessage"] == 5


def test_identity_and_channels_are_cached_for_an_hour(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    cycle(config, clock, sandbox)
    clock.advance(minutes=30)
    quiet = cycle(config, clock, sandbox)
    assert "auth.test" not in quiet.calls and "conversations.list" not in quiet.calls
    assert quiet.calls["conversations.history"] == 5
    state.channels["C02FISCAL"]["is_member"] = False  # someone removed the bot from #fiscal
    clock.advance(minutes=2)
    broken = cycle(config, clock, sandbox)
    assert broken.errors == ["#fiscal: slack: conversations.history: not_in_channel"]
    clock.advance(minutes=2)
    with pytest.raises(ConfigError) as caught:
        cycle(config, clock, sandbox)
    assert caught.value.problems == [
        "slack.channels[1]: the bot is not a member of #fiscal (invite it with /invite @hygiene)"
    ]


def test_chat_nudges_found_on_a_weekend_wait_for_monday(
    tmp_path: Path, sandbox: SlackSandbox, state: SlackState, tickets_file: Path
) -> None:
    saturday = FrozenClock(datetime(2026, 11, 21, 10, 0, tzinfo=ZoneInfo("America/Sao_Paulo")))
    state.post_as(
        "U03JOAO", "dia-a-dia", "O cliente Brascont pediu a segunda via do boleto de outubro.", at=saturday.now()
    )
    saturday.advance(minutes=10)
    config = make_config(tmp_path, sandbox.base_url, tickets_file)
    report = cycle(config, saturday, sandbox)
    assert report.findings.get("HY101") == 1 and report.sent == 0, "found, written down, not posted"
    saturday.advance(days=1, hours=22)  # Monday 08:10
    assert cycle(config, saturday, sandbox).sent == 1
    assert len(state.bot_posts()) == 1


def test_a_tight_budget_reads_every_channel_in_turn(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, tickets_file: Path
) -> None:
    config = make_config(tmp_path, sandbox.base_url, tickets_file, slack={"distribution": "unlisted"})
    read: list[str] = []
    for _ in range(5):
        report = cycle(config, clock, sandbox)
        assert report.calls["conversations.history"] == 1
        read += sorted(set(config.chats[0].channels) - set(report.incomplete_channels))
        clock.advance(minutes=2)
    assert sorted(read) == sorted(config.chats[0].channels), "five cycles, five channels, each read once"


def test_thumbs_down_on_a_nudge_is_counted_per_rule(
    config: Config, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState
) -> None:
    from hygiene.report import day_figures

    cycle(config, clock, sandbox)
    hy105 = next(p for p in state.bot_posts() if p["metadata"]["event_payload"]["rule"] == "HY105")
    state.react(hy105["channel"], hy105["ts"], "U08MIKE", "-1")
    clock.advance(minutes=2)
    cycle(config, clock, sandbox)
    figures = day_figures(Store.open(config.store_path), clock.now(), ZoneInfo("America/Sao_Paulo"))
    assert figures["false_positives_by_rule"] == {"HY105": 1}
    assert figures["false_positive_reactions"] == 1
    assert figures["nudges"]["HY101"] == 4


def test_a_failed_side_effect_is_dmed_once_to_the_leads_and_in_the_summary(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, tickets_file: Path
) -> None:
    config = make_config(tmp_path, sandbox.base_url, tickets_file, report={"leads": ["U05PEDRO"]})
    state.inject("chat.postMessage", "error:msg_too_long")  # a validation error Slack names: permanent
    first = cycle(config, clock, sandbox)
    assert first.failed == 1 and not first.ok
    for _ in range(2):
        clock.advance(minutes=1)
        cycle(config, clock, sandbox)
    dms = [p for p in state.bot_posts() if p["kind"] == "dm"]
    assert len(dms) == 1 and "msg_too_long" in dms[0]["text"] and dms[0]["channel"] == "D05PEDRO"


def test_the_summary_says_when_the_cycle_judged_with_an_old_snapshot() -> None:
    report = CycleReport(retrying=2, unknown=1, snapshot_from="2026-11-18T12:00:00+00:00")
    line = summary_line(report)
    assert "2 to retry later" in line and "1 of unknown outcome" in line
    assert "helpdesk sync failed: judged with the snapshot of 2026-11-18T12:00:00+00:00" in line
