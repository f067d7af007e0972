"""The helpdesk contract for Zendesk, against the sandbox's Zendesk API on loopback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from connectors.helpdesk.zendesk import ZendeskHelpdesk
from hygiene.clock import FrozenClock
from hygiene.ports import Helpdesk
from sandbox.zendesk_api import ZendeskState
from tests.contracts.helpdesk import NOW, HttpHelpdeskContract


class ZendeskHarness:
    name = "zendesk"
    create_route = "create"

    def __init__(self, _: Path) -> None:
        self.clock = FrozenClock(NOW)
        self.state = ZendeskState(clock=self.clock, page_size=3)
        self.state.add_organization(501, "Brascont")
        self.state.add_user(11, "Sarah Collins", "sarah@horizonte.example")
        self.server = self.state.server().start()
        self.slept: list[float] = []

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

    def fault_create(self, kind: str, **options: Any) -> None:
        self.state.faults.inject(self.create_route, kind, **options)

    def create_calls(self) -> int:
        return self.state.faults.calls[self.create_route]

    def count(self) -> int:
        return len(self.state.tickets)

    def notes(self) -> list[str]:
        return [text for _, text in self.state.notes]

    def close(self) -> None:
        self.server.stop()


class TestZendesk(HttpHelpdeskContract):
    harness_class = ZendeskHarness
