"""Tickets created, linked and kept in sync from chat: Slack and G Click sandboxes over HTTP."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from hygiene.clock import FrozenClock
from hygiene.config import Config
from hygiene.store import Store
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SlackSandbox, SlackState
from sandbox.zendesk_api import ZendeskState
from tests.conftest import SCENARIO, crash_at, make_config
from tests.test_engine import cycle

QUIET = {code: {"mode": "off"} for code in ("HY103", "HY104", "HY105", "HY106", "HY201", "HY202", "HY203")}


@pytest.fixture
def gclick(clock: FrozenClock, monkeypatch: pytest.MonkeyPatch) -> Iterator[GClickState]:
    state = GClickState.from_tickets(json.loads(SCENARIO.read_text(encoding="utf-8"))["tickets"], clock)
    monkeypatch.setenv("GCLICK_CLIENT_ID", state.client_id)
    monkeypatch.setenv("GCLICK_CLIENT_SECRET", state.client_secret)
    with state.server() as server:
        state.base_url = server.base_url  # type: ignore[attr-defined]
        yield state


def config_for(tmp_path: Path, sandbox: SlackSandbox, gclick: GClickState, **rules: dict) -> Config:  # type: ignore[type-arg]
    return make_config(
        tmp_path,
        sandbox.base_url,
        None,
        helpdesk={"kind": "gclick", "base_url": gclick.base_url, "create_department_id": 4},  # type: ignore[attr-defined]
        rules=QUIET | rules,
    )


def posts(state: SlackState, rule: str) -> list[dict]:  # type: ignore[type-arg]
    return [p for p in state.bot_posts() if ((p.get("metadata") or {}).get("event_payload") or {}).get("rule") == rule]


def test_auto_mode_creates_the_ticket_links_the_thread_and_posts_its_link(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick, HY101={"channels": {"fiscal": {"mode": "auto"}}})
    report = cycle(config, clock, sandbox)
    assert report.ok, report.errors
    (created,) = gclick.created()
    assert created["assunto"].startswith("Pode verificar se a nota da Padaria Pão Quente foi emitida?")
    assert "Pedido feito no Slack por marina em #fiscal" in created["andamento"]
    assert "https://sandbox.slack.local/archives/C02FISCAL/p" in created["andamento"], "the permalink"
    assert created["clienteId"] == next(c["id"] for c in gclick.clients if c["nome"] == "Padaria Pão Quente")
    (reply,) = posts(state, "created")
    assert "Abri a pré-tarefa 4." in reply["text"] and "precisa ser confirmada" in reply["text"]
    store = Store.open(config.store_path)
    task_id = next(iter(t for t in gclick.tasks if t.startswith("4.")))
    assert store.links.of_thread("slack", "C02FISCAL", reply["thread_ts"]) == [task_id]
    clock.advance(minutes=2)
    cycle(config, clock, sandbox)
    assert len(gclick.created()) == 1 and len(posts(state, "created")) == 1, "a rerun creates nothing"


def test_a_ticket_reaction_on_the_nudge_creates_it_next_cycle(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick)
    cycle(config, clock, sandbox)
    nudges = posts(state, "HY101")
    assert nudges and all("Reaja com :ticket:" in n["text"] or "React with :ticket:" in n["text"] for n in nudges)
    assert gclick.created() == []
    fiscal = next(n for n in nudges if n["channel"] == "C02FISCAL")
    state.react("fiscal", fiscal["ts"], "U02MARINA", "ticket")
    clock.advance(minutes=2)
    cycle(config, clock, sandbox)
    assert len(gclick.created()) == 1
    assert len(posts(state, "created")) == 1


def test_a_ticket_reaction_on_the_message_creates_it(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick)
    cycle(config, clock, sandbox)
    request = next(m for m in state.messages["C01DIADIA"] if m["text"].startswith("O cliente Brascont pediu"))
    state.react("dia-a-dia", request["ts"], "U03JOAO", "ticket")
    clock.advance(minutes=2)
    cycle(config, clock, sandbox)
    (created,) = gclick.created()
    assert created["clienteId"] == next(c["id"] for c in gclick.clients if c["nome"] == "Brascont")


def test_a_referenced_ticket_is_linked_and_its_thread_hears_when_it_changes(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick)
    cycle(config, clock, sandbox)
    das_thread = next(m["ts"] for m in state.messages["C02FISCAL"] if "DAS de setembro" in m["text"])
    assert Store.open(config.store_path).links.of_thread("slack", "C02FISCAL", das_thread) == ["4540"]
    gclick.set_status("4540", "C")
    clock.advance(minutes=2)
    cycle(config, clock, sandbox)
    (update,) = posts(state, "update")
    assert update["thread_ts"] == das_thread
    assert update["text"].startswith("O atendimento #4540 agora está *resolvido* (era aberto)")
    clock.advance(minutes=2)
    cycle(config, clock, sandbox)
    assert len(posts(state, "update")) == 1, "one update per change"


def test_a_pre_task_confirmed_is_announced_in_its_thread(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick, HY101={"channels": {"fiscal": {"mode": "auto"}}})
    cycle(config, clock, sandbox)
    task_id = next(t for t, task in gclick.tasks.items() if task["status"] == "P")
    gclick.confirm(task_id)
    clock.advance(minutes=2)
    cycle(config, clock, sandbox)
    (update,) = posts(state, "update")
    assert update["text"].startswith(f"A pré-tarefa {task_id} foi confirmada e virou tarefa")


def test_a_crash_between_creating_and_linking_leaves_one_ticket_and_one_link(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick, HY101={"channels": {"fiscal": {"mode": "auto"}}})
    with crash_at("outbox.after_create"):
        cycle(config, clock, sandbox)
    assert len(gclick.created()) == 1 and posts(state, "created") == []
    clock.advance(minutes=1)
    cycle(config, clock, sandbox)
    assert len(gclick.created()) == 1, "the rerun found the task by its marker"
    assert len(posts(state, "created")) == 1
    links = Store.open(config.store_path).db.execute("select ticket_id from links where how = 'created'").fetchall()
    assert len(links) == 1
    assert max(Counter(p["metadata"]["event_payload"]["key"] for p in state.bot_posts()).values()) == 1


def test_status_answers_read_the_ticket_live(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick)
    cycle(config, clock, sandbox)
    state.post_as("U03JOAO", "fiscal", "Como está o atendimento 4533?")
    clock.advance(minutes=1)
    before = gclick.faults.calls.get("tarefa", 0)
    cycle(config, clock, sandbox)
    (answer,) = posts(state, "HY102")
    assert answer["text"].startswith("Atendimento #4533 (Emissão de notas de serviço): *pendente*, responsável Marina")
    assert "Marina Souza, o atendimento está há 22,0 h úteis sem atualização (SLA 16,0 h)" in answer["text"]
    assert gclick.faults.calls.get("tarefa", 0) == before + 1, "GET /tarefas/4533 for the answer"


def test_the_same_loop_with_zendesk(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, monkeypatch: pytest.MonkeyPatch
) -> None:
    zendesk = ZendeskState(clock=clock)
    zendesk.add_organization(501, "Padaria Pão Quente")
    zendesk.add_user(11, "Marina Souza", "marina@horizonte.example")
    zendesk.add_ticket(4540, "Recálculo do DAS de setembro", assignee_id=11, organization_id=501)
    monkeypatch.setenv("ZENDESK_API_TOKEN", zendesk.token)
    with zendesk.server() as server:
        config = make_config(
            tmp_path,
            sandbox.base_url,
            None,
            helpdesk={"kind": "zendesk", "base_url": server.base_url, "email": zendesk.email},
            rules=QUIET | {"HY101": {"channels": {"fiscal": {"mode": "auto"}}}},
        )
        cycle(config, clock, sandbox)
        (created,) = zendesk.created
        assert created["external_id"].endswith(":create") and created["organization_id"] == 501
        assert created["comment"]["public"] is False
        (reply,) = posts(state, "created")
        assert (
            reply["text"].startswith("Abri o atendimento #9000 no Zendesk") and "/agent/tickets/9000" in reply["text"]
        )
        clock.advance(minutes=2)  # a later change: Zendesk's cursor only moves forward in time
        zendesk.update(4540, status="solved")
        clock.advance(minutes=2)
        cycle(config, clock, sandbox)
        (update,) = posts(state, "update")
        assert update["text"].startswith("O atendimento #4540 agora está *resolvido* (era aberto)")


def test_the_helpdesk_is_synced_at_most_as_often_as_configured(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick)
    config.helpdesk.sync_every_minutes = 10
    cycle(config, clock, sandbox)
    sweeps = gclick.faults.calls["tarefas"]
    clock.advance(minutes=4)
    cycle(config, clock, sandbox)
    assert gclick.faults.calls["tarefas"] == sweeps, "four minutes later: no sweep"
    clock.advance(minutes=7)
    cycle(config, clock, sandbox)
    assert gclick.faults.calls["tarefas"] > sweeps


def test_auto_mode_offers_instead_of_opening_a_second_ticket_on_the_same_subject(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    gclick.add_task("9.1", "Emissão da nota fiscal de serviço de novembro", "Padaria Pão Quente")
    config = config_for(tmp_path, sandbox, gclick, HY101={"channels": {"fiscal": {"mode": "auto"}}})
    report = cycle(config, clock, sandbox)
    assert report.ok, report.errors
    assert gclick.created() == [], "the client's open ticket names the same subject: no second ticket"
    (nudge,) = [p for p in posts(state, "HY101") if p["channel"] == "C02FISCAL"]
    assert "Emissão da nota fiscal" in nudge["text"], "the open ticket is offered"
