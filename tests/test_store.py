from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from hygiene.clock import FrozenClock
from hygiene.models import Action, ActionKind, ChatMessage
from hygiene.store import Store
from hygiene.store.migrations import MIGRATIONS, current_version
from tests.conftest import at_of

EPOCH = at_of("0")


def msg(ts: str, text: str = "hello", **extra: object) -> ChatMessage:
    return ChatMessage(channel="C1", id=ts, at=at_of(ts), text=text, plain=text, user="U1", **extra)  # type: ignore[arg-type]


def test_migrations_are_applied_once(tmp_path: Path) -> None:
    path = tmp_path / "h.db"
    Store.open(path).close()
    store = Store.open(path)
    assert current_version(store.db) == len(MIGRATIONS)
    assert store.db.execute("select count(*) from schema_migrations").fetchone()[0] == len(MIGRATIONS)
    assert store.db.execute("pragma journal_mode").fetchone()[0] == "wal"


def test_messages_are_new_then_same_then_changed(store: Store, clock: FrozenClock) -> None:
    assert store.messages.upsert(msg("100.000001"), clock.now()) == "new"
    assert store.messages.upsert(msg("100.000001"), clock.now()) == "same"
    assert store.messages.upsert(msg("100.000001", "hello, edited"), clock.now()) == "changed"
    assert store.messages.mark_deleted("slack", "C1", "100.000001", clock.now())
    assert not store.messages.mark_deleted("slack", "C1", "100.000001", clock.now())
    assert store.messages.since("slack", "C1", EPOCH) == []


def test_outbox_keys_are_unique_and_statuses_move(store: Store, clock: FrozenClock) -> None:
    action = Action(ActionKind.THREAD_REPLY, "k1", "C1", "nudge", thread_id="1.0", user="U1", rule="HY101")
    assert store.outbox.enqueue(action, clock.now())
    assert not store.outbox.enqueue(action, clock.now())
    store.outbox.mark("k1", "sending", clock.now())
    ((again, status, _, attempts),) = store.outbox.unfinished()
    assert (again, status, attempts) == (action, "sending", 1)
    store.outbox.mark("k1", "done", clock.now(), result="2.0")
    assert store.outbox.unfinished() == []
    assert store.reports.nudges_to("U1", clock.now() - timedelta(minutes=1)) == 1


def test_atomic_rolls_back_everything(store: Store, clock: FrozenClock) -> None:
    with pytest.raises(RuntimeError), store.atomic():
        store.messages.upsert(msg("100.000001"), clock.now())
        store.cursors.set("slack:C1", "100.000001", clock.now())
        store.outbox.enqueue(Action(ActionKind.THREAD_REPLY, "k1", "C1", "x"), clock.now())
        raise RuntimeError("crash")
    assert store.cursors.get("slack:C1") is None
    assert store.outbox.rows() == []
    assert store.messages.since("slack", "C1", EPOCH) == []


def test_text_is_kept_only_for_the_retention_window(store: Store, clock: FrozenClock) -> None:
    old_ts = f"{(clock.now() - timedelta(days=20)).timestamp():.6f}"
    store.messages.upsert(msg(old_ts, "old words"), clock.now() - timedelta(days=20))
    store.messages.upsert(msg(f"{clock.now().timestamp():.6f}", "new words"), clock.now())
    assert store.messages.purge_text("slack", clock.now() - timedelta(days=14)) == 1
    texts = [row[0] for row in store.db.execute("select text from messages order by at")]
    assert texts == [None, "new words"]


def test_links_are_recorded_once(store: Store, clock: FrozenClock) -> None:
    assert store.links.add_thread("slack", "C1", "1.0", "4521", "files", "reference", clock.now())
    assert not store.links.add_thread("slack", "C1", "1.0", "4521", "files", "reference", clock.now())
    assert store.links.of_thread("slack", "C1", "1.0") == ["4521"]
    assert store.links.of_thread("other-chat", "C1", "1.0") == [], "links belong to their chat"
