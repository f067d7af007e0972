"""The client side of a conversation, as the core sees it: ``author_side``, ``sent_at`` and
``department`` survive the store, and the team's rules never judge a conversation with a client
(nor the client-side rules the team's chat)."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hygiene.cli import _client_rules
from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.context import TicketSnapshot, WindowContext
from hygiene.cycle import CycleReport
from hygiene.models import ChatMessage
from hygiene.report import DailyReport, day_figures, render_markdown
from hygiene.rulebase import Rule
from hygiene.store import Store
from hygiene.wiring import build_rules, rules_for, run_cycle
from sandbox.demo_digisac import running, serving
from sandbox.digisac_api import DigisacState
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SlackState
from tests.conftest import SCENARIO, START

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


def test_the_client_hint_is_stored_and_follows_a_new_mapping(store: Store, clock: FrozenClock) -> None:
    message = replace(whatsapp("client"), client_hint="Padaria")
    assert store.messages.upsert(message, clock.now()) == "new"
    assert store.messages.upsert(replace(message, client_hint="Padaria Pão Quente"), clock.now()) == "same"
    (stored,) = store.messages.since("digisac", "s1", AT - timedelta(hours=1))
    assert stored.client_hint == "Padaria Pão Quente"


def test_team_rules_never_judge_a_conversation_with_a_client() -> None:
    rules = [rule for rule in build_rules({}) if isinstance(rule, Rule)]
    team = [rule for rule in rules if not rule.judges_client_side]
    assert team, "the team's chat has rules"
    for side in ("client", "agent", "note"):
        assert not [rule.code for rule in team if rule.judges(whatsapp(side))]
    assert all(rule.judges(whatsapp("team")) for rule in team)


@dataclass
class ClientCycle:
    """One cycle and its rerun over the Slack, G Click and Digisac sandboxes (HY301 as a nudge)."""

    config: Config
    slack: SlackState
    digisac: DigisacState
    report: CycleReport
    rerun: CycleReport
    now: datetime


@pytest.fixture
def client_cycle(tmp_path: Path) -> ClientCycle:
    clock = FrozenClock(START)
    slack = SlackState.from_scenario(SCENARIO, clock)
    gclick = GClickState.from_tickets(json.loads(SCENARIO.read_text(encoding="utf-8"))["tickets"], clock)
    digisac = DigisacState.from_scenario(clock=clock)
    with serving(slack, gclick, digisac, "hygiene-test-", tmp_path / "state", request_mode="nudge") as (config, _):
        report = run_cycle(config, clock)
        clock.advance(minutes=2)
        rerun = run_cycle(config, clock)
    return ClientCycle(config, slack, digisac, report, rerun, clock.now())


def test_a_cycle_with_slack_and_digisac_tells_the_team_and_never_writes_to_a_client(client_cycle: ClientCycle) -> None:
    """Every client-side rule acts (HY301 as a nudge): the team hears in Slack, in the department's
    channel or #elogios; Digisac gets internal notes only; no write reaches a client."""
    slack, digisac, report, rerun = client_cycle.slack, client_cycle.digisac, client_cycle.report, client_cycle.rerun
    assert digisac.client_visible() == []
    assert {w["kind"] for w in digisac.api_writes} == {"comment"}
    where = {
        rule_of(p): slack.channels[p["channel"]]["name"] for p in slack.bot_posts() if rule_of(p).startswith("HY3")
    }
    assert where == {"HY301": "dia-a-dia", "HY302": "fiscal", "HY304": "elogios"}
    assert "Fernanda (Brascont)" in next(p["text"] for p in slack.bot_posts() if rule_of(p) == "HY301")
    assert not any("99876" in p["text"] or "98765" in p["text"] for p in slack.bot_posts()), "no phone number"
    assert {"HY301", "HY302", "HY303", "HY304"} <= set(report.findings)
    assert not {code for code in rerun.findings if code.startswith("HY3")}, "each client finding is told once"


def rule_of(post: dict[str, Any]) -> str:
    return str(((post.get("metadata") or {}).get("event_payload") or {}).get("rule", ""))


def test_the_daily_report_has_the_client_side_per_department(client_cycle: ClientCycle) -> None:
    config, zone = client_cycle.config, ZoneInfo("America/Sao_Paulo")
    client_rules = _client_rules(config, rules_for(config))
    assert client_rules == {"HY301": "untracked", "HY302": "waiting"}
    store = Store.open(config.store_path)
    try:
        figures = day_figures(store, client_cycle.now, zone, client_rules=client_rules)
    finally:
        store.close()
    text = render_markdown(DailyReport(client_cycle.now, [], figures=figures), zone)
    assert (
        "- Clientes (WhatsApp): Contábil: 0 clientes esperando, 1 pedidos sem atendimento; "
        "Fiscal: 1 clientes esperando, 0 pedidos sem atendimento"
    ) in text


def test_without_a_chat_with_clients_the_report_has_no_client_side_line(tmp_path: Path) -> None:
    config = parse({"hygiene": {"state_dir": str(tmp_path)}, "chat": [{"kind": "slack", "channels": ["geral"]}]})
    assert _client_rules(config, rules_for(config)) == {}
    store = Store.open(config.store_path)
    try:
        figures = day_figures(store, START, ZoneInfo("America/Sao_Paulo"))
    finally:
        store.close()
    assert figures["client_side"] is None
    assert "Clientes (WhatsApp)" not in render_markdown(DailyReport(START, [], figures=figures), START.tzinfo)


def test_with_digisac_as_the_only_chat_client_findings_are_reported_not_posted(tmp_path: Path) -> None:
    """No team chat to tell: HY301/HY302/HY304 stay in the report (no channel post is tried on the
    client-facing chat); the only writes are internal notes (HY303's coaching)."""
    clock = FrozenClock(START)
    tickets = json.loads(SCENARIO.read_text(encoding="utf-8"))["tickets"]
    gclick, digisac = GClickState.from_tickets(tickets, clock), DigisacState.from_scenario(clock=clock)
    with gclick.server() as gclick_server, gclick.credentials_in_env(), running(digisac) as digisac_server:
        config = parse(
            {
                "hygiene": {"state_dir": str(tmp_path / "state"), "timezone": "America/Sao_Paulo"},
                "chat": [{"kind": "digisac", "base_url": digisac_server.base_url, "channels": ["WhatsApp Horizonte"]}],
                "helpdesk": {"kind": "gclick", "base_url": gclick_server.base_url, "create_department_id": 4},
                "report": {"channel": "WhatsApp Horizonte"},
                "rules": {"HY301": {"business_hours": 0.25}, "HY303": {"mode": "nudge"}},
            }
        )
        report = run_cycle(config, clock, digisac_server.token)
    assert {"HY301", "HY302", "HY304"} <= set(report.findings)
    assert digisac.client_visible() == [] and report.ok
    assert [w["kind"] for w in digisac.api_writes] == ["comment"], "HY303's note, nothing else"


def test_a_client_waits_in_business_time_not_overnight() -> None:
    """HY302 counts business minutes from the WhatsApp send time: 17:50 → 08:20 is 30 minutes."""
    (rule,) = [r for r in build_rules({}) if r.code == "HY302"]
    zone = ZoneInfo("America/Sao_Paulo")
    sent_at = datetime(2026, 11, 18, 17, 50, tzinfo=zone)
    message = replace(whatsapp("client", "Bom dia, a guia do DAS já saiu?"), at=sent_at, sent_at=sent_at)
    early = WindowContext(datetime(2026, 11, 19, 8, 20, tzinfo=zone), [message], TicketSnapshot([]))
    late = WindowContext(datetime(2026, 11, 19, 8, 40, tzinfo=zone), [message], TicketSnapshot([]))
    assert not rule.verdict(message, early).fired
    assert rule.verdict(message, late).evidence["waited_minutes"] == 50
