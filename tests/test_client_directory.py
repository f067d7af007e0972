"""The helpdesk's client directory: detection sees every client, tickets are created for the
helpdesk's own record, an outage judges with the last good snapshot, an unknown client waits for
a lead instead of failing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from connectors.helpdesk.gclick import GClickHelpdesk
from connectors.helpdesk.zendesk import ZendeskHelpdesk
from hygiene.client_directory import ClientDirectory
from hygiene.clock import FrozenClock
from hygiene.errors import NotFound, TransientError
from hygiene.ports import ClientRecord, TicketDraft
from hygiene.store import Store
from sandbox.gclick_api import GClickState
from sandbox.slack_api import SlackSandbox, SlackState
from sandbox.zendesk_api import ZendeskState
from tests.conftest import make_config
from tests.test_engine import cycle
from tests.test_ticket_links import QUIET, config_for, posts
from tests.test_ticket_links import gclick as gclick_state

gclick = gclick_state


def finding_clients(config_path: Path) -> dict[str, str | None]:
    store = Store.open(config_path)
    return {row["message_id"]: json.loads(row["evidence"]).get("client") for row in store.findings.all()}


def test_gclick_directory_has_ids_full_names_and_apelido_aliases(clock: FrozenClock) -> None:
    state = GClickState(clock=clock)
    state.add_client(7, "Ótica Visão Clara Ltda", apelido="Ótica Visão")
    state.add_client(8, "Brascont")
    with state.server() as server:
        helpdesk = GClickHelpdesk(
            server.base_url, state.client_id, state.client_secret, today=lambda: date(2026, 11, 18)
        )
        records = helpdesk.client_directory()
    assert records == [
        ClientRecord(id="7", name="Ótica Visão Clara Ltda", aliases=("Ótica Visão",)),
        ClientRecord(id="8", name="Brascont"),
    ]


def test_zendesk_directory_is_its_organizations(clock: FrozenClock) -> None:
    state = ZendeskState(clock=clock)
    state.add_organization(501, "Padaria Pão Quente")
    with state.server() as server:
        helpdesk = ZendeskHelpdesk(server.base_url, state.email, state.token, now=clock.now)
        assert helpdesk.client_directory() == [ClientRecord(id="501", name="Padaria Pão Quente")]


def test_lookup_refuses_to_guess_between_two_records_and_follows_config_aliases() -> None:
    directory = ClientDirectory(
        [
            ClientRecord("1", "Padaria Pão Quente"),
            ClientRecord("2", "Padaria Pão Quente Ltda"),
            ClientRecord("3", "Acme"),
        ],
        {"Seu Zé": "Acme"},
    )
    assert directory.lookup("Padaria Pão Quente") is None, "ambiguous: never a guess"
    assert directory.lookup("seu ze") == ClientRecord("3", "Acme")
    assert directory.lookup("Padaria") is None, "a fragment is not a client"


def test_a_client_with_no_task_is_found_through_the_directory(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    gclick.add_client(2001, "Ótica Visão Clara", apelido="Ótica Visão")
    ts = state.post_as("U02MARINA", "fiscal", "A Ótica Visão pediu o envio da guia do ISS de outubro até sexta.")
    config = config_for(tmp_path, sandbox, gclick, HY101={"mode": "nudge"})
    clock.advance(minutes=10)
    cycle(config, clock, sandbox)
    assert finding_clients(config.store_path)[ts] == "Ótica Visão Clara"


def test_a_failed_sync_judges_with_the_last_good_snapshot_and_says_so(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    gclick.add_client(2001, "Ótica Visão Clara", apelido="Ótica Visão")
    config = config_for(tmp_path, sandbox, gclick, HY101={"mode": "nudge"})
    first = cycle(config, clock, sandbox)
    assert first.snapshot_from is None
    gclick.faults.inject("tarefas", "server_error", times=20)
    clock.advance(minutes=5)
    ts = state.post_as("U02MARINA", "fiscal", "A Ótica Visão pediu o envio da guia do ISS de outubro até sexta.")
    clock.advance(minutes=10)
    second = cycle(config, clock, sandbox)
    assert second.snapshot_from is not None and not second.ok
    assert finding_clients(config.store_path)[ts] == "Ótica Visão Clara", "the client survives the outage"


def test_a_fragment_in_the_draft_becomes_the_helpdesks_own_client(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    gclick.clients[:] = [c for c in gclick.clients if c["nome"] != "Padaria Pão Quente"]
    gclick.add_client(3003, "Padaria Pão Quente Comércio de Alimentos", apelido="Padaria Pão Quente")
    config = config_for(tmp_path, sandbox, gclick, HY101={"channels": {"fiscal": {"mode": "auto"}}})
    cycle(config, clock, sandbox)
    (created,) = gclick.created()
    assert created["clienteId"] == 3003


def test_an_unknown_client_waits_asks_the_lead_once_and_is_created_when_the_lead_answers(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    config = config_for(tmp_path, sandbox, gclick, HY101={"channels": {"fiscal": {"mode": "auto"}}})
    config.report.channel_leads = {"C02FISCAL": ["U05PEDRO"]}
    gclick.clients[:] = [c for c in gclick.clients if c["nome"] != "Padaria Pão Quente"]
    first = cycle(config, clock, sandbox)
    assert gclick.created() == [] and first.failed == 0
    asks = [p for p in state.bot_posts() if p["kind"] == "dm"]
    assert len(asks) == 1 and "de qual cliente" in asks[0]["text"]
    clock.advance(minutes=10)
    cycle(config, clock, sandbox)
    assert len([p for p in state.bot_posts() if p["kind"] == "dm"]) == 1, "asked once"
    row = next(r for r in Store.open(config.store_path).outbox.rows() if r["kind"] == "create_ticket")
    assert row["status"] == "pending"
    gclick.add_client(4004, "Panificadora Central")
    request = next(m for m in state.messages["C02FISCAL"] if "Padaria" in m["text"])
    state.post_as("U05PEDRO", "fiscal", "É a Panificadora Central.", thread_ts=request["ts"])
    for _ in range(2):  # the reply is read, then the entry's next attempt comes
        clock.advance(minutes=40)
        cycle(config, clock, sandbox)
    (created,) = gclick.created()
    assert created["clienteId"] == 4004


def test_an_unreadable_client_list_is_transient_never_no_such_client(clock: FrozenClock) -> None:
    state = GClickState(clock=clock)
    state.add_client(1061, "Brascont")
    with state.server() as server:
        helpdesk = GClickHelpdesk(
            server.base_url, state.client_id, state.client_secret, today=lambda: date(2026, 11, 18),
            create_department_id=4, retries=1, sleep=clock.sleep,
        )  # fmt: skip
        state.faults.inject("clientes", "server_error", times=10)
        with pytest.raises(TransientError):
            helpdesk.create_ticket(TicketDraft("Guia do ISS", "…", client="Brascont"), "k:create")
        state.faults.faults.clear()
        with pytest.raises(NotFound, match="no G Click client named 'Ótica'"):
            GClickHelpdesk(
                server.base_url, state.client_id, state.client_secret, today=lambda: date(2026, 11, 18),
                create_department_id=4,
            ).create_ticket(TicketDraft("Guia do ISS", "…", client="Ótica"), "k2:create")  # fmt: skip
    assert state.created() == []


def test_a_first_sync_that_fails_holds_judging_back_instead_of_losing_clients(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, gclick: GClickState
) -> None:
    gclick.faults.inject("clientes", "server_error", times=40)
    config = config_for(tmp_path, sandbox, gclick, HY101={"mode": "nudge"})
    first = cycle(config, clock, sandbox)
    assert state.bot_posts() == [] and not first.ok and first.snapshot_from == "none (never synced)"
    gclick.faults.faults.clear()
    clock.advance(minutes=5)
    cycle(config, clock, sandbox)
    assert "(Brascont)" in next(p["text"] for p in posts(state, "HY101") if p["channel"] == "C01DIADIA")


def test_zendesk_creates_without_a_client_it_cannot_tell_and_asks_to_set_it(
    tmp_path: Path, clock: FrozenClock, sandbox: SlackSandbox, state: SlackState, monkeypatch: pytest.MonkeyPatch
) -> None:
    zendesk = ZendeskState(clock=clock)
    zendesk.add_organization(501, "Brascont")
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
    assert "organization_id" not in created
    (reply,) = posts(state, "created")
    assert "defina o cliente" in reply["text"]
