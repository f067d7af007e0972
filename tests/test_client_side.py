"""The client side of a conversation, as the core sees it: ``author_side``, ``sent_at`` and
``department`` survive the store, and the team's rules never judge a conversation with a client
(nor the client-side rules the team's chat)."""

from __future__ import annotations

from datetime import datetime, timedelta

from hygiene.clock import FrozenClock
from hygiene.models import ChatMessage
from hygiene.rulebase import Rule
from hygiene.store import Store
from hygiene.wiring import build_rules

AT = datetime.fromisoformat("2026-11-18T13:00:00+00:00")


def whatsapp(side: str, text: str = "Pode verificar se a nota da Padaria Pão Quente foi emitida?") -> ChatMessage:
    return ChatMessage(
        channel="s1",
        id=f"m-{side}",
        at=AT,
        text=text,
        plain=text,
        source="digisac",
        user="c1",
        thread_id="c1",
        author_side=side,  # type: ignore[arg-type]
        sent_at=AT - timedelta(days=3),
        department="Fiscal",
    )


def test_the_client_side_fields_survive_the_store(store: Store, clock: FrozenClock) -> None:
    message = whatsapp("client")
    store.messages.upsert(message, clock.now())
    (stored,) = store.messages.since("digisac", "s1", AT - timedelta(hours=1))
    assert (stored.author_side, stored.sent_at, stored.department) == ("client", AT - timedelta(days=3), "Fiscal")


def test_team_rules_never_judge_a_conversation_with_a_client() -> None:
    rules = [rule for rule in build_rules({}) if isinstance(rule, Rule)]
    team = [rule for rule in rules if not rule.judges_client_side]
    assert team, "the team's chat has rules"
    for side in ("client", "agent", "note"):
        assert not [rule.code for rule in team if rule.judges(whatsapp(side))]
    assert all(rule.judges(whatsapp("team")) for rule in team)
