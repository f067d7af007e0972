"""One contract every helpdesk connector passes: files on disk, G Click and Zendesk over HTTP.

G Click and Zendesk run against the sandbox's API subsets on loopback (real HTTP through
requests and tenacity); faults are injected on the sync route.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from connectors.helpdesk.files import FilesHelpdesk
from connectors.helpdesk.gclick import GClickHelpdesk
from connectors.helpdesk.zendesk import ZendeskHelpdesk
from hygiene.clock import FrozenClock
from hygiene.errors import AuthError, ExternalError, OutcomeUnknown, TransientError
from hygiene.ports import Helpdesk, TicketDraft
from sandbox.gclick_api import GClickState
from sandbox.zendesk_api import ZendeskState

NOW = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
DRAFT = TicketDraft(subject="Segunda via do boleto", description="Pedido no Slack: …", client="Brascont")


class Harness:
    name = ""
    http = True
    slept: list[float]

    def helpdesk(self, *, bad: bool = False) -> Helpdesk: ...
    def seed(self, count: int) -> None: ...
    def touch(self, index: int) -> None: ...
    def fault(self, kind: str, times: int = 1, **options: Any) -> None: ...
    def count(self) -> int: ...
    def notes(self) -> list[str]: ...


class FilesHarness(Harness):
    name, http = "files", False

    def __init__(self, tmp_path: Path) -> None:
        self.path = tmp_path / "tickets.json"
        self.slept = []
        self.rows: list[dict[str, Any]] = []
        self.path.write_text("[]")

    def helpdesk(self, *, bad: bool = False) -> Helpdesk:
        return FilesHelpdesk(self.path, "https://hd.example/t/{id}")

    def seed(self, count: int) -> None:
        self.rows = [
            {
                "id": str(100 + i),
                "number": str(100 + i),
                "subject": f"Tarefa {i}",
                "client": "Brascont",
                "status": "open",
            }
            for i in range(count)
        ]
        self.path.write_text(json.dumps(self.rows))

    def touch(self, index: int) -> None:
        self.rows[index]["status"] = "pending"
        self.path.write_text(json.dumps(self.rows))

    def count(self) -> int:
        return len(json.loads(self.path.read_text()))

    def notes(self) -> list[str]:
        notes = self.path.with_name(self.path.name + ".notes.jsonl")
        return [json.loads(line)["note"] for line in notes.read_text().splitlines()] if notes.exists() else []


class GClickHarness(Harness):
    name = "gclick"

    def __init__(self) -> None:
        self.state = GClickState(clock=FrozenClock(NOW))
        self.state.add_client(1061, "Brascont")
        self.server = self.state.server().start()
        self.slept = []

    create_route = "preTarefas"

    def helpdesk(self, *, bad: bool = False, timeout: float = 15) -> Helpdesk:
        secret = "wrong-secret-value" if bad else self.state.client_secret
        return GClickHelpdesk(
            self.server.base_url, self.state.client_id, secret, sleep=self.slept.append,
            today=lambda: date(2026, 11, 18), page_size=3, create_department_id=4, retries=2, timeout=timeout,
        )  # fmt: skip

    def seed(self, count: int) -> None:
        owner = {"id": 7, "nome": "Pedro Alves", "email": "pedro@horizonte.example"}
        for i in range(count):
            self.state.add_task(
                f"4.{100 + i}", f"Tarefa {i}", "Brascont", owner=owner, answered_at="2026-11-17T10:00:00"
            )

    def touch(self, index: int) -> None:
        self.state.set_status(f"4.{100 + index}", "S")

    def fault(self, kind: str, times: int = 1, **options: Any) -> None:
        self.state.faults.inject("tarefas", kind, times, **options)

    def count(self) -> int:
        return len(self.state.tasks)


class ZendeskHarness(Harness):
    name = "zendesk"

    def __init__(self) -> None:
        self.clock = FrozenClock(NOW)
        self.state = ZendeskState(clock=self.clock, page_size=3)
        self.state.add_organization(501, "Brascont")
        self.state.add_user(11, "Sarah Collins", "sarah@horizonte.example")
        self.server = self.state.server().start()
        self.slept = []

    create_route = "create"

    def helpdesk(self, *, bad: bool = False, timeout: float = 15) -> Helpdesk:
        token = "wrong-token-value" if bad else self.state.token
        return ZendeskHelpdesk(
            self.server.base_url, self.state.email, token, sleep=self.slept.append, now=self.clock.now, retries=2,
            timeout=timeout,
        )  # fmt: skip

    def seed(self, count: int) -> None:
        for i in range(count):
            self.clock.advance(seconds=1)
            self.state.add_ticket(100 + i, f"Ticket {i}", assignee_id=11, organization_id=501)

    def touch(self, index: int) -> None:
        self.clock.advance(minutes=5)
        self.state.update(100 + index, status="pending")

    def fault(self, kind: str, times: int = 1, **options: Any) -> None:
        self.state.faults.inject("export", kind, times, **options)

    def count(self) -> int:
        return len(self.state.tickets)

    def notes(self) -> list[str]:
        return [text for _, text in self.state.notes]


@pytest.fixture(params=["files", "gclick", "zendesk"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    made: Harness = {"files": lambda: FilesHarness(tmp_path), "gclick": GClickHarness, "zendesk": ZendeskHarness}[
        request.param
    ]()
    yield made
    if hasattr(made, "server"):
        made.server.stop()


def needs_http(harness: Harness) -> None:
    if not harness.http:
        pytest.skip("the files helpdesk has no HTTP to fail")


def test_multi_page_sync(harness: Harness) -> None:
    harness.seed(7)
    batch = harness.helpdesk().sync({})
    assert len(batch.tickets) == 7
    assert {t.status for t in batch.tickets} == {"open"}
    assert all(t.subject and t.url for t in batch.tickets)
    if harness.http:
        assert batch.calls >= 3, "seven tickets, three a page"


def test_resume_from_saved_state(harness: Harness) -> None:
    harness.seed(5)
    helpdesk = harness.helpdesk()
    first = helpdesk.sync({})
    state = json.loads(json.dumps(first.state))  # what the store keeps
    assert helpdesk.sync(state).tickets == []
    harness.touch(2)
    again = harness.helpdesk().sync(state)
    assert [t.status for t in again.tickets] == ["pending"]


def test_create_twice_with_the_same_key_makes_one_ticket(harness: Harness) -> None:
    harness.seed(1)
    before = harness.count()
    first = harness.helpdesk().create_ticket(DRAFT, "finding-abc:create")
    second = harness.helpdesk().create_ticket(DRAFT, "finding-abc:create")
    assert first.id == second.id
    assert harness.count() == before + 1
    assert first.url


def test_internal_note(harness: Harness) -> None:
    harness.seed(1)
    helpdesk = harness.helpdesk()
    ticket = helpdesk.sync({}).tickets[0]
    if not getattr(helpdesk, "supports_notes", True):
        with pytest.raises(ExternalError, match="partner-only") as caught:
            helpdesk.add_note(ticket.id, "criado pelo hygiene")
        assert not caught.value.transient
        return
    helpdesk.add_note(ticket.id, "criado pelo hygiene a partir do Slack")
    assert harness.notes() == ["criado pelo hygiene a partir do Slack"]


def test_bad_credentials_name_the_helpdesk(harness: Harness) -> None:
    needs_http(harness)
    harness.seed(1)
    with pytest.raises(AuthError) as caught:
        harness.helpdesk(bad=True).sync({})
    assert str(caught.value).startswith(f"{harness.name}: ")
    assert "wrong-" not in str(caught.value)


def test_429_is_waited_and_retried(harness: Harness) -> None:
    needs_http(harness)
    harness.seed(2)
    harness.fault("ratelimited", retry_after=3)
    assert len(harness.helpdesk().sync({}).tickets) == 2
    assert 3.0 in harness.slept


def test_5xx_is_retried_then_reported(harness: Harness) -> None:
    needs_http(harness)
    harness.seed(2)
    harness.fault("server_error", times=2)
    assert len(harness.helpdesk().sync({}).tickets) == 2
    harness.fault("server_error", times=10)
    with pytest.raises(ExternalError, match=r"HTTP 500 \(gave up after 3 attempts\)") as caught:
        harness.helpdesk().sync({})
    assert caught.value.system == harness.name


def test_malformed_json_is_a_clear_error_and_no_state_moves(harness: Harness) -> None:
    needs_http(harness)
    harness.seed(2)
    helpdesk = harness.helpdesk()
    state = helpdesk.sync({}).state
    harness.touch(0)
    harness.fault("malformed", times=3)  # a read retries a malformed body: three times fails (retries=2)
    with pytest.raises(TransientError, match="not valid JSON"):
        harness.helpdesk().sync(state)
    assert [t.status for t in harness.helpdesk().sync(state).tickets] == ["pending"], "the change is still ahead"


def test_one_malformed_body_on_a_read_is_retried(harness: Harness) -> None:
    needs_http(harness)
    harness.seed(2)
    harness.fault("malformed")
    assert len(harness.helpdesk().sync({}).tickets) == 2


@pytest.mark.parametrize("fault", ["late", "reset_after", "server_error"])
def test_a_create_whose_answer_is_lost_is_never_resent_blind(harness: Harness, fault: str) -> None:
    needs_http(harness)
    harness.seed(1)
    before = harness.count()
    route = harness.create_route  # type: ignore[attr-defined]
    harness.state.faults.inject(route, fault, delay=0.6)  # type: ignore[attr-defined]
    helpdesk = harness.helpdesk(timeout=0.3)  # type: ignore[call-arg]
    with pytest.raises(OutcomeUnknown):
        helpdesk.create_ticket(DRAFT, "finding-late:create")
    assert harness.state.faults.calls[route] == 1, "sent once"  # type: ignore[attr-defined]
    carried_out = fault != "server_error"
    assert (helpdesk.find_created("finding-late:create") is not None) == carried_out, "found by its key"
    harness.helpdesk().create_ticket(DRAFT, "finding-late:create")
    assert harness.count() == before + 1
