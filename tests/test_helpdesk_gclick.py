"""The helpdesk contract for G Click, against the sandbox's G Click API on loopback."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from connectors.helpdesk.gclick import GClickHelpdesk
from hygiene.clock import FrozenClock
from hygiene.ports import Helpdesk
from sandbox.gclick_api import GClickState
from tests.contracts.helpdesk import NOW, HttpHelpdeskContract


class GClickHarness:
    name = "gclick"
    create_route = "preTarefas"

    def __init__(self, _: Path) -> None:
        self.state = GClickState(clock=FrozenClock(NOW))
        self.state.add_client(1061, "Brascont")
        self.server = self.state.server().start()
        self.slept: list[float] = []

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

    def fault_create(self, kind: str, **options: Any) -> None:
        self.state.faults.inject(self.create_route, kind, **options)

    def create_calls(self) -> int:
        return self.state.faults.calls[self.create_route]

    def count(self) -> int:
        return len(self.state.tasks)

    def notes(self) -> list[str]:
        """G Click has no internal notes (partner-only): none are ever written."""
        return []

    def close(self) -> None:
        self.server.stop()


class TestGClick(HttpHelpdeskContract):
    harness_class = GClickHarness
