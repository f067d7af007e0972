"""What one cycle did, counted: the run record ``hygiene run`` prints and stores."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from hygiene.outbox import Delivery


@dataclass
class CycleReport:
    channels: int = 0
    messages_read: int = 0
    new: int = 0
    changed: int = 0
    deleted: int = 0
    findings: dict[str, int] = field(default_factory=dict)
    decisions: dict[str, int] = field(default_factory=dict)
    enqueued: int = 0
    sent: int = 0
    recovered: int = 0
    deferred: int = 0
    failed: int = 0
    incomplete_channels: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    tickets_synced: int = 0
    snapshot_from: str | None = None
    """When the helpdesk sync failed: the time of the last good snapshot judged with instead."""
    retrying: int = 0
    unknown: int = 0
    escalated: int = 0
    calls: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def count_finding(self, rule: str, decision: str | None = None) -> None:
        self.findings[rule] = self.findings.get(rule, 0) + 1
        if decision is not None:
            self.decisions[decision] = self.decisions.get(decision, 0) + 1

    def add_delivery(self, delivery: Delivery) -> None:
        """Add what one pass over the outbox did."""
        for name in ("sent", "recovered", "deferred", "failed", "retrying", "unknown", "escalated"):
            setattr(self, name, getattr(self, name) + getattr(delivery, name))
        self.errors.extend(delivery.errors)
