"""Whole cycles on the in-memory chat (sandbox/memory_chat.py): fast, no HTTP.

The engine reads each chat through the neutral port, judges, and delivers through the outbox; these
tests check what a cycle leaves behind — posts the chat received, rows the store keeps — across
reruns, edits, deletions, crashes, failed reads, and two chats read in one cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.cycle import CycleReport, Engine
from hygiene.errors import ConfigError, TransientError
from hygiene.models import Action, ActionKind
from hygiene.ports import Capabilities
from hygiene.store import Store
from hygiene.wiring import rules_for
from sandbox.memory_chat import MemoryChat
from tests.conftest import crash_at

REQUEST = "O cliente Brascont pediu a segunda via do boleto de honorários de março."
"""A request made in chat instead of a ticket (HY101 fires: tests/rule_cases/HY101.toml)."""
CHATTER = "Bom dia, pessoal!"
CHANNELS = ("dia-a-dia", "fiscal")


def earlier(clock: FrozenClock) -> datetime:
    """Half an hour ago: past the rules' grace period (time for someone to answer first)."""
    return clock.now() - timedelta(minutes=30)


def config_for(tmp_path: Path, *sources: str) -> Config:
    """A config watching #dia-a-dia and #fiscal in each named chat (kind slack: the registered kind)."""
    data: dict[str, Any] = {
        "hygiene": {"state_dir": str(tmp_path / "state")},
        "chat": [{"kind": "slack", "name": source, "channels": list(CHANNELS)} for source in sources],
        "clients": {"names": ["Brascont", "Globex"]},
        "policy": {"cooldown_minutes": 0},
        "rules": {code: {"mode": "off"} for code in ("HY201", "HY202", "HY203")},
    }
    return parse(data)


def memory_chat(clock: FrozenClock, source: str) -> MemoryChat:
    chat = MemoryChat(clock, source=source)
    chat.add_channel("C01DIADIA", "dia-a-dia")
    chat.add_channel("C02FISCAL", "fiscal")
    chat.add_user("U06ANA", "ana", email="ana@horizonte.example")
    chat.add_user("U05PEDRO", "pedro", email="pedro@horizonte.example")
    return chat


def run(config: Config, store: Store, chats: Sequence[MemoryChat], clock: FrozenClock) -> CycleReport:
    return Engine(config, store, list(chats), rules_for(config), clock).run_cycle()


def replies(chat: MemoryChat) -> list[str]:
    """The keys of hygiene's thread replies the chat received."""
    return [r.key or "" for r in chat.received if r.kind == "thread_reply"]


def message_row(store: Store, source: str, message_id: str) -> dict[str, Any]:
    rows = list(store.db.query("select * from messages where source = ? and id = ?", [source, message_id]))
    assert len(rows) == 1
    return rows[0]


@pytest.fixture
def chat(clock: FrozenClock) -> MemoryChat:
    return memory_chat(clock, "alpha")


@pytest.fixture
def config(tmp_path: Path) -> Config:
    return config_for(tmp_path, "alpha")


def test_first_cycle_nudges_once_and_a_rerun_posts_nothing(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    request = chat.post("U06ANA", "dia-a-dia", REQUEST, at=earlier(clock))
    chat.post("U05PEDRO", "fiscal", CHATTER)
    first = run(config, store, [chat], clock)
    assert first.ok, first.errors
    assert first.findings == {"HY101": 1}
    assert first.sent == 1
    [received] = [r for r in chat.received if r.kind == "thread_reply"]
    assert received.thread_id == request and received.channel == "C01DIADIA"
    clock.advance(minutes=5)
    second = run(config, store, [chat], clock)
    assert second.ok and second.sent == 0 and second.findings == {}
    assert len(chat.received) == 1


def test_an_edit_is_read_again_but_not_nudged_again(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    request = chat.post("U06ANA", "dia-a-dia", REQUEST, at=earlier(clock))
    run(config, store, [chat], clock)
    clock.advance(minutes=5)
    chat.edit("dia-a-dia", request, REQUEST + " Urgente!")
    report = run(config, store, [chat], clock)
    assert report.changed == 1 and report.sent == 0
    assert message_row(store, "alpha", request)["plain"].endswith("Urgente!")
    assert len(replies(chat)) == 1


def test_an_edit_into_a_request_is_judged_on_its_new_text(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    message = chat.post("U06ANA", "dia-a-dia", "Reunião às 15h")
    assert run(config, store, [chat], clock).findings == {}
    clock.advance(minutes=5)
    chat.edit("dia-a-dia", message, REQUEST)
    report = run(config, store, [chat], clock)
    assert report.findings == {"HY101": 1} and report.sent == 1


def test_a_deletion_is_recorded(config: Config, store: Store, chat: MemoryChat, clock: FrozenClock) -> None:
    keep = chat.post("U06ANA", "fiscal", CHATTER)
    gone = chat.post("U06ANA", "fiscal", "Mensagem que vai sumir")
    run(config, store, [chat], clock)
    chat.delete("fiscal", gone)
    clock.advance(minutes=5)
    report = run(config, store, [chat], clock)
    assert report.deleted == 1
    row = message_row(store, "alpha", gone)
    assert row["deleted_at"] is not None and row["text"] is None
    assert message_row(store, "alpha", keep)["deleted_at"] is None


def test_a_crash_before_the_commit_then_a_rerun_posts_exactly_once(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    chat.post("U06ANA", "dia-a-dia", REQUEST, at=earlier(clock))
    with crash_at("engine.before_commit"):
        run(config, store, [chat], clock)
    assert chat.received == [] and store.outbox.rows() == []
    assert store.cursors.get("chat:alpha:C01DIADIA") is None, "the bookmark rolled back with the channel"
    clock.advance(minutes=1)
    report = run(config, store, [chat], clock)
    assert report.sent == 1
    clock.advance(minutes=1)
    run(config, store, [chat], clock)
    assert len(replies(chat)) == 1


def test_a_crash_after_posting_is_recovered_not_resent(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    chat.post("U06ANA", "dia-a-dia", REQUEST, at=earlier(clock))
    with crash_at("outbox.after_send"):
        run(config, store, [chat], clock)
    assert len(replies(chat)) == 1, "posted, not recorded"
    clock.advance(minutes=1)
    report = run(config, store, [chat], clock)
    assert report.recovered == 1 and report.sent == 0
    assert len(replies(chat)) == 1


def test_a_failed_read_keeps_the_bookmark_and_the_next_cycle_reads_the_messages(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    run(config, store, [chat], clock)
    bookmark = store.cursors.get("chat:alpha:C01DIADIA")
    clock.advance(minutes=5)
    request = chat.post("U06ANA", "dia-a-dia", REQUEST, at=earlier(clock))
    chat.fail("history", TransientError("memory", "history: HTTP 500"))
    failed = run(config, store, [chat], clock)
    assert not failed.ok and failed.incomplete_channels == ["dia-a-dia"]
    assert store.cursors.get("chat:alpha:C01DIADIA") == bookmark
    assert failed.findings == {}
    clock.advance(minutes=5)
    retry = run(config, store, [chat], clock)
    assert retry.ok and retry.findings == {"HY101": 1}
    assert [r.thread_id for r in chat.received] == [request]


def test_two_chats_in_one_cycle_each_get_their_own_nudges(tmp_path: Path, store: Store, clock: FrozenClock) -> None:
    config = config_for(tmp_path, "alpha", "beta")
    alpha, beta = memory_chat(clock, "alpha"), memory_chat(clock, "beta")
    first = alpha.post("U06ANA", "dia-a-dia", REQUEST, at=earlier(clock))
    second = beta.post("U06ANA", "dia-a-dia", REQUEST, at=earlier(clock))
    assert first == second, "the same id in both chats (same clock, same channel id)"
    report = run(config, store, [alpha, beta], clock)
    assert report.ok, report.errors
    assert report.findings == {"HY101": 2} and report.sent == 2
    assert [r.thread_id for r in alpha.received] == [first]
    assert [r.thread_id for r in beta.received] == [second]
    assert replies(alpha) != replies(beta), "each finding has its own key"
    rows = list(store.db.query("select source, channel, id from messages where id = ?", [first]))
    assert sorted(r["source"] for r in rows) == ["alpha", "beta"]
    assert {r["source"] for r in store.outbox.rows()} == {"alpha", "beta"}
    assert store.cursors.get("chat:alpha:C01DIADIA") is not None
    assert store.cursors.get("chat:beta:C01DIADIA") is not None
    clock.advance(minutes=5)
    assert run(config, store, [alpha, beta], clock).sent == 0


def test_an_action_for_a_chat_no_longer_configured_fails_clearly(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    request = chat.post("U06ANA", "dia-a-dia", REQUEST, at=earlier(clock))
    orphan = Action(
        ActionKind.THREAD_REPLY, "old:reply", "C01DIADIA", "um lembrete", thread_id=request, source="retired"
    )
    store.outbox.enqueue(orphan, clock.now())
    report = run(config, store, [chat], clock)
    assert report.failed == 1
    assert any("no chat named 'retired' is configured (chats: alpha)" in error for error in report.errors)
    assert "old:reply" not in [r.key for r in chat.received], "never sent through another chat"
    [row] = [r for r in store.outbox.rows() if r["key"] == "old:reply"]
    assert row["status"] == "failed"


def test_an_unknown_channel_is_named_by_its_chat_entrys_key_path(
    tmp_path: Path, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    data: dict[str, Any] = {
        "hygiene": {"state_dir": str(tmp_path / "state")},
        "chat": [{"kind": "slack", "name": "alpha", "channels": ["dia-a-dia", "no-such-channel"]}],
    }
    config = parse(data)
    with pytest.raises(ConfigError) as caught:
        run(config, store, [chat], clock)
    assert caught.value.problems == ['chat[0].channels[1]: unknown channel "no-such-channel"']


def test_the_team_is_told_in_a_chat_that_can_write_to_people_not_a_client_facing_one(
    tmp_path: Path, store: Store, clock: FrozenClock
) -> None:
    config = config_for(tmp_path, "clients", "team")
    clients, team = memory_chat(clock, "clients"), memory_chat(clock, "team")
    clients.capabilities = Capabilities(direct_messages=False, reactions=False, internal_notes_only=True)
    engine = Engine(config, store, [clients, team], rules_for(config), clock)
    assert engine.people_chat is team
    assert engine.tickets.recipients.chat is team, "owners' DMs and department posts go through the team's chat"
