"""Channel charters end to end: whole cycles on the in-memory chat, and `explain` in a chartered channel."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner

from hygiene.cli import cli
from hygiene.clock import FrozenClock
from hygiene.config import Config, parse
from hygiene.cycle import Engine
from hygiene.report import DailyReport, day_figures, render_markdown
from hygiene.store import Store
from hygiene.wiring import rules_for
from sandbox.memory_chat import MemoryChat

ALERTS, PRODUCT = "potential-sales-revenue", "produto"
ZONE = ZoneInfo("America/Sao_Paulo")
CHARTERS: dict[str, Any] = {
    ALERTS: {
        "purpose": "alertas de receita em risco",
        "automated_only": True,
        "ask_instead": "#vendas",
        "status": {"from": "mentioned", "within_hours": 1, "escalate_to": ["U01LEAD"]},
    },
    PRODUCT: {
        "purpose": "dúvidas de uso do produto",
        "elsewhere": [
            {
                "name": "sugestão de roadmap",
                "pt": ["fica a sugestão", "ideia de melhoria"],
                "en": ["feature request"],
                "goes_to": "o portal de sugestões",
            }
        ],
    },
}


@pytest.fixture
def config(tmp_path: Path) -> Config:
    data: dict[str, Any] = {
        "hygiene": {"state_dir": str(tmp_path / "state")},
        "chat": [{"kind": "slack", "name": "alpha", "channels": [ALERTS, PRODUCT]}],
        "policy": {"cooldown_minutes": 0},
        "charters": CHARTERS,
        "rules": {code: {"mode": "off"} for code in ("HY201", "HY202", "HY203")},
    }
    return parse(data)


@pytest.fixture
def chat(clock: FrozenClock) -> MemoryChat:
    chat = MemoryChat(clock, source="alpha")
    chat.add_channel("C01ALERTS", ALERTS)
    chat.add_channel("C02PRODUT", PRODUCT)
    chat.add_user("U06ANA", "ana")
    chat.add_user("U05PEDRO", "pedro")
    chat.add_user("B01CRM", "crm-alerts", is_bot=True)
    return chat


def nudged(chat: MemoryChat) -> list[tuple[str, str | None]]:
    """(channel, thread) of every thread reply hygiene posted."""
    return [(r.channel, r.thread_id) for r in chat.received if r.kind == "thread_reply"]


def test_each_charter_breach_gets_one_nudge_and_a_rerun_posts_nothing(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    now = clock.now()  # Wednesday 10:00 in São Paulo: two business hours after 08:00
    alert = chat.post(
        "B01CRM", ALERTS, "Receita em risco: renovação em 7 dias. Responsável: <@U06ANA>", at=now - timedelta(hours=5)
    )
    answered = chat.post(
        "B01CRM", ALERTS, "Receita em risco: uso caiu 40%. Responsável: <@U05PEDRO>", at=now - timedelta(hours=5)
    )
    chat.post(
        "U05PEDRO",
        ALERTS,
        "Liguei para o cliente, está tudo certo.",
        thread_id=answered,
        at=now - timedelta(hours=1, minutes=30),
    )
    fresh = chat.post(
        "B01CRM", ALERTS, "Receita em risco: pagamento atrasado. Responsável: <@U06ANA>", at=now - timedelta(minutes=20)
    )
    breach = chat.post(
        "U05PEDRO", ALERTS, "Alguém sabe quando sai a nova tabela de comissões?", at=now - timedelta(minutes=30)
    )
    suggestion = chat.post(
        "U06ANA", PRODUCT, "Fica a sugestão: exportar a DRE direto para o Excel.", at=now - timedelta(minutes=30)
    )
    first = Engine(config, store, [chat], rules_for(config), clock).run_cycle()
    assert first.ok, first.errors
    assert first.findings == {"HY401": 1, "HY402": 1, "HY403": 1}
    assert sorted(nudged(chat)) == sorted([("C01ALERTS", alert), ("C01ALERTS", breach), ("C02PRODUT", suggestion)])
    [escalation] = [r.text for r in chat.received if r.thread_id == alert]
    assert "<@U06ANA>" in escalation and "<@U01LEAD>" in escalation
    assert fresh not in [thread for _, thread in nudged(chat)], "its hour has not passed yet"
    clock.advance(minutes=5)
    again = Engine(config, store, [chat], rules_for(config), clock).run_cycle()
    assert again.ok and again.sent == 0 and again.findings == {}
    assert len(nudged(chat)) == 3


def test_explain_shows_the_charter_rules_in_a_chartered_channel(tmp_path: Path) -> None:
    path = tmp_path / "hygiene.toml"
    path.write_text(
        '[[chat]]\nkind = "slack"\nchannels = ["produto"]\n'
        '[charters.produto]\npurpose = "dúvidas de uso do produto"\n'
        '[[charters.produto.elsewhere]]\nname = "sugestão de roadmap"\npt = ["fica a sugestão"]\n'
        'goes_to = "o portal de sugestões"\n',
        encoding="utf-8",
    )
    text = "Fica a sugestão: exportar a DRE direto para o Excel."
    result = CliRunner().invoke(cli, ["explain", text, "--channel", "produto", "--config", str(path)])
    assert result.exit_code == 0, result.output
    assert "HY403 belongs-elsewhere" in result.output and "FIRES" in result.output
    assert "kind: sugestão de roadmap" in result.output
    assert "the charter lets anyone post" in result.output
    assert "HY402 alert-needs-status" in result.output


def test_the_daily_figures_count_the_charter_findings(
    config: Config, store: Store, chat: MemoryChat, clock: FrozenClock
) -> None:
    chat.post(
        "U05PEDRO", ALERTS, "Alguém sabe quando sai a nova tabela de comissões?", at=clock.now() - timedelta(minutes=30)
    )
    Engine(config, store, [chat], rules_for(config), clock).run_cycle()
    figures = day_figures(store, clock.now(), ZONE, charter_rules=["HY401", "HY402", "HY403"])
    assert figures["charters"] == {"HY401": 1}
    assert "Cartas de canal: HY401 1" in render_markdown(DailyReport(clock.now(), [], figures=figures), ZONE)
    assert day_figures(store, clock.now(), ZONE)["charters"] is None, "no charters, no line"


def test_the_audit_judges_alerts_for_the_rule_that_judges_them(tmp_path: Path) -> None:
    config = tmp_path / "hygiene.toml"
    config.write_text(
        '[[chat]]\nkind = "slack"\nchannels = ["alertas"]\n'
        '[charters.alertas]\npurpose = "receita em risco"\nautomated_only = true\n'
        '[charters.alertas.status]\nfrom = "mentioned"\nwithin_hours = 0.5\n',
        encoding="utf-8",
    )
    alert = "Receita em risco: Brascont, renovação em 7 dias. Responsável: <@U07ANA>"
    lines = [  # Wednesday 2026-11-18, 13:00 and 13:05 in São Paulo
        {"channel": "alertas", "subtype": "bot_message", "bot_id": "B01", "text": alert, "ts": "1795017600.000100",
         "labels": ["HY402"]},
        {"channel": "alertas", "user": "U05PEDRO", "text": "Quem cuida da Brascont?", "ts": "1795017900.000100",
         "labels": ["HY401"]},
    ]  # fmt: skip
    messages = tmp_path / "messages.jsonl"
    messages.write_text("".join(json.dumps(line) + "\n" for line in lines), encoding="utf-8")
    result = CliRunner().invoke(
        cli, ["audit", str(messages), "--config", str(config), "--format", "jsonl", "--labels", "--jobs", "1"]
    )
    assert result.exit_code == 0, result.output
    findings = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(f["rule"], f["ts"]) for f in findings] == [("HY402", "1795017600.000100"), ("HY401", "1795017900.000100")]
    assert findings[0]["evidence"]["owners"] == ["U07ANA"] and findings[0]["evidence"]["waited_hours"] == 1.0
    assert "1 messages judged" in result.stderr, "the alert is judged by HY402 but not counted as a person's message"
