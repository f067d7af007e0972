"""The feedback loop: labels in the store, ``hygiene stats`` per rule and channel with its
suggestion, and ``hygiene feedback export`` replayed by ``hygiene audit --labels``."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.models import Action, ActionKind, ChatMessage, Finding
from hygiene.stats import labeled_messages, stats
from hygiene.store import Store
from hygiene.store.feedback import Label
from tests.test_audit import TICKETS

NOW = datetime.now(UTC)
REQUEST = "O cliente Brascont pediu a segunda via do boleto de outubro, alguém consegue ver?"


def message(n: int, text: str = REQUEST) -> ChatMessage:
    ts = f"{int(NOW.timestamp()) - 3600 + n}.000100"
    at = NOW - timedelta(hours=1) + timedelta(seconds=n)
    return ChatMessage(
        channel="C1", id=ts, at=at, text=text, plain=text, source="ws", user="U1", channel_name="dia-a-dia"
    )


def nudged(store: Store, item: ChatMessage) -> Finding:
    """A HY101 finding on ``item`` whose nudge was posted."""
    finding = Finding(
        rule="HY101",
        name="request-in-chat",
        channel=item.channel,
        message_id=item.id,
        user=item.user,
        text=item.plain,
        score=0.9,
        evidence={"language": "pt"},
        channel_name=item.channel_name,
        source=item.source,
    )
    store.messages.upsert(item, NOW)
    store.findings.add(finding, "nudge", NOW)
    reply = Action(ActionKind.THREAD_REPLY, f"{finding.fingerprint}:reply", item.channel, "…", source=item.source)
    store.outbox.enqueue(reply, NOW)
    store.outbox.mark(reply.key, "done", NOW, result=f"9{item.id}")
    return finding


def label(finding: Finding, kind: str, user: str, how: str) -> Label:
    return Label(
        finding.source, finding.channel, finding.message_id, kind, user, how, finding.fingerprint, finding.rule
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    chat = '[[chat]]\nkind = "slack"\nname = "ws"\nchannels = ["dia-a-dia"]\n'
    (tmp_path / "hygiene.toml").write_text(f'[hygiene]\nstate_dir = "{tmp_path / "state"}"\n{chat}', encoding="utf-8")
    (tmp_path / "state").mkdir()
    return Store.open(tmp_path / "state" / "hygiene.db")


def seed(store: Store) -> None:
    findings = [nudged(store, message(n)) for n in range(6)]
    store.feedback.add(label(findings[0], "confirmed", "U2", "button"), NOW)
    ticket = Action(ActionKind.CREATE_TICKET, f"{findings[1].fingerprint}:create", "C1", "{}", source="ws")
    store.outbox.enqueue(ticket, NOW)
    store.outbox.mark(ticket.key, "done", NOW, result="T1")  # the :ticket: reaction
    for finding in findings[2:]:
        store.feedback.add(label(finding, "rejected", "U2", "not_a_request"), NOW)
    assert not store.feedback.add(label(findings[2], "rejected", "U2", "not_a_request"), NOW), "twice counts once"
    store.feedback.add(label(findings[0], "rejected", "U3", "reaction"), NOW)  # confirmed wins
    missed = message(10, "A Vila Verde mandou os extratos, tem que lançar")
    store.messages.upsert(missed, NOW)
    store.feedback.add(Label("ws", "C1", missed.id, "missed", "U2", "shortcut", "fp-missed", "HY101"), NOW)


def test_stats_count_per_rule_and_channel_and_suggest_report_mode(store: Store) -> None:
    seed(store)
    (row,) = stats(store, NOW - timedelta(days=30))
    assert (row.rule, row.channel, row.findings, row.nudges) == ("HY101", "dia-a-dia", 6, 6)
    assert (row.confirmed, row.rejected, row.missed, row.precision) == (2, 4, 1, 0.33)
    assert row.suggestion(0.5, 5) == '[rules.HY101.channels.dia-a-dia] mode = "report"'
    assert row.suggestion(0.3, 5) is None and row.suggestion(0.5, 7) is None
    assert stats(store, NOW + timedelta(days=1)) == []


def test_stats_command(store: Store, tmp_path: Path) -> None:
    seed(store)
    store.close()
    config = str(tmp_path / "hygiene.toml")
    table = CliRunner().invoke(cli, ["stats", "--config", config, "--days", "30"])
    assert table.exit_code == 0, table.output
    assert "suggestion: precision 0.33 for HY101 in #dia-a-dia" in table.output
    lines = CliRunner().invoke(cli, ["stats", "--config", config, "--format", "jsonl"]).output.splitlines()
    assert json.loads(lines[0])["precision"] == 0.33


def test_the_export_replays_in_the_audit(store: Store, tmp_path: Path) -> None:
    seed(store)
    exported = list(labeled_messages(store, NOW - timedelta(days=30)))
    assert len(exported) == 6, "labels only: a ticket made with :ticket: is no label"
    assert sum(1 for line in exported if line["labels"] == ["HY101"]) == 2  # one confirmed, one missed
    store.close()
    config = str(tmp_path / "hygiene.toml")
    out = tmp_path / "labeled.jsonl"
    result = CliRunner().invoke(cli, ["feedback", "export", "--config", config, "--out", str(out)])
    assert result.exit_code == 0, result.output
    audit = CliRunner().invoke(cli, ["audit", str(out), "--labels", "--tickets", TICKETS, "--rules", "HY101"])
    assert "labels: 6 labeled messages" in audit.stderr
    row = next(x for x in audit.stderr.splitlines() if x.startswith("HY101") and "." in x.split()[-1])
    true_positives, false_positives, misses = (int(n) for n in row.split()[1:4])
    assert true_positives + misses == 2 and false_positives <= 4
