"""The contract every helpdesk connector passes, as a reusable suite.

A backend's test module defines a harness (how to seed its helpdesk, change a ticket, inject a
fault) and subclasses :class:`HelpdeskContract`, or :class:`HttpHelpdeskContract` when it talks
HTTP, naming the harness::

    class TestGClick(HttpHelpdeskContract):
        harness_class = GClickHarness

as singer-sdk's ``get_tap_test_class`` does for taps. HTTP backends run against the sandbox's API
subsets on loopback (real HTTP through requests and tenacity); faults are injected on the sync
route and on the create route.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Protocol

import pytest

from hygiene.errors import AuthError, ExternalError, OutcomeUnknown, TransientError
from hygiene.ports import Helpdesk, TicketDraft

NOW = datetime(2026, 11, 18, 13, 0, tzinfo=UTC)
DRAFT = TicketDraft(subject="Segunda via do boleto", description="Pedido no Slack: …", client="Brascont")


class Harness(Protocol):
    """One helpdesk under test: a fresh backend with tickets the suite seeds and changes."""

    name: str

    def helpdesk(self) -> Helpdesk:
        """A connector to the backend, as the product builds it."""
        ...

    def seed(self, count: int) -> None:
        """Put ``count`` open tickets of client Brascont in the backend."""
        ...

    def touch(self, index: int) -> None:
        """Move the ``index``-th seeded ticket to pending, as a person would."""
        ...

    def count(self) -> int:
        """How many tickets the backend holds."""
        ...

    def notes(self) -> list[str]:
        """The internal notes written so far (empty for a helpdesk without notes)."""
        ...

    def close(self) -> None:
        """Stop whatever the harness started."""
        ...


class HttpHarness(Harness, Protocol):
    """A helpdesk over HTTP: it can be given bad credentials, short timeouts and faults."""

    slept: list[float]

    def helpdesk(self, *, bad: bool = False, timeout: float = 15) -> Helpdesk:
        """A connector with two retries; ``bad`` credentials, or a ``timeout`` in seconds."""
        ...

    def fault(self, kind: str, times: int = 1, **options: Any) -> None:
        """Inject a fault (sandbox.faults) on the sync route."""
        ...

    def fault_create(self, kind: str, **options: Any) -> None:
        """Inject a fault once on the route that creates a ticket."""
        ...

    def create_calls(self) -> int:
        """How many requests reached the route that creates a ticket."""
        ...


class HelpdeskContract:
    """What every helpdesk does: sync by pages from saved state, create once per key, notes."""

    harness_class: ClassVar[Callable[[Path], Harness]]

    @pytest.fixture
    def harness(self, tmp_path: Path) -> Iterator[Any]:
        made = type(self).harness_class(tmp_path)
        yield made
        made.close()

    def test_multi_page_sync(self, harness: Harness) -> None:
        harness.seed(7)
        batch = harness.helpdesk().sync({})
        assert len(batch.tickets) == 7
        assert {t.status for t in batch.tickets} == {"open"}
        assert all(t.subject and t.url for t in batch.tickets)
        if isinstance(self, HttpHelpdeskContract):
            assert batch.calls >= 3, "seven tickets, three a page"

    def test_resume_from_saved_state(self, harness: Harness) -> None:
        harness.seed(5)
        helpdesk = harness.helpdesk()
        first = helpdesk.sync({})
        state = json.loads(json.dumps(first.state))  # what the store keeps
        assert helpdesk.sync(state).tickets == []
        harness.touch(2)
        again = harness.helpdesk().sync(state)
        assert [t.status for t in again.tickets] == ["pending"]

    def test_create_twice_with_the_same_key_makes_one_ticket(self, harness: Harness) -> None:
        harness.seed(1)
        before = harness.count()
        first = harness.helpdesk().create_ticket(DRAFT, "finding-abc:create")
        second = harness.helpdesk().create_ticket(DRAFT, "finding-abc:create")
        assert first.id == second.id
        assert harness.count() == before + 1
        assert first.url

    def test_internal_note(self, harness: Harness) -> None:
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


class HttpHelpdeskContract(HelpdeskContract):
    """What a helpdesk over HTTP does besides: clear errors, waits and retries, no blind resends."""

    harness_class: ClassVar[Callable[[Path], HttpHarness]]

    def test_bad_credentials_name_the_helpdesk(self, harness: HttpHarness) -> None:
        harness.seed(1)
        with pytest.raises(AuthError) as caught:
            harness.helpdesk(bad=True).sync({})
        assert str(caught.value).startswith(f"{harness.name}: ")
        assert "wrong-" not in str(caught.value)

    def test_429_is_waited_and_retried(self, harness: HttpHarness) -> None:
        harness.seed(2)
        harness.fault("ratelimited", retry_after=3)
        assert len(harness.helpdesk().sync({}).tickets) == 2
        assert 3.0 in harness.slept

    def test_5xx_is_retried_then_reported(self, harness: HttpHarness) -> None:
        harness.seed(2)
        harness.fault("server_error", times=2)
        assert len(harness.helpdesk().sync({}).tickets) == 2
        harness.fault("server_error", times=10)
        with pytest.raises(ExternalError, match=r"HTTP 500 \(gave up after 3 attempts\)") as caught:
            harness.helpdesk().sync({})
        assert caught.value.system == harness.name

    def test_malformed_json_is_a_clear_error_and_no_state_moves(self, harness: HttpHarness) -> None:
        harness.seed(2)
        helpdesk = harness.helpdesk()
        state = helpdesk.sync({}).state
        harness.touch(0)
        harness.fault("malformed", times=3)  # a read retries a malformed body: three times fails (retries=2)
        with pytest.raises(TransientError, match="not valid JSON"):
            harness.helpdesk().sync(state)
        assert [t.status for t in harness.helpdesk().sync(state).tickets] == ["pending"], "the change is still ahead"

    def test_one_malformed_body_on_a_read_is_retried(self, harness: HttpHarness) -> None:
        harness.seed(2)
        harness.fault("malformed")
        assert len(harness.helpdesk().sync({}).tickets) == 2

    @pytest.mark.parametrize("fault", ["late", "reset_after", "server_error"])
    def test_a_create_whose_answer_is_lost_is_never_resent_blind(self, harness: HttpHarness, fault: str) -> None:
        harness.seed(1)
        before = harness.count()
        harness.fault_create(fault, delay=0.6)
        helpdesk = harness.helpdesk(timeout=0.3)
        with pytest.raises(OutcomeUnknown):
            helpdesk.create_ticket(DRAFT, "finding-late:create")
        assert harness.create_calls() == 1, "sent once"
        carried_out = fault != "server_error"
        assert (helpdesk.find_created("finding-late:create") is not None) == carried_out, "found by its key"
        harness.helpdesk().create_ticket(DRAFT, "finding-late:create")
        assert harness.count() == before + 1
