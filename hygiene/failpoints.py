"""Failpoints: named places where tests can make the process crash, to prove recovery.

``HYGIENE_FAILPOINTS=outbox.after_send`` (comma-separated) arms a point for a whole process, so a
test can crash a real ``hygiene run`` between "posted" and "recorded" and then rerun it.
``name@N`` (or ``arm(name, hit=N)``) crashes at the point's Nth hit only: a kill at a chosen moment.
"""

from __future__ import annotations

import os

from hygiene.errors import InjectedCrash

_armed: set[str] = set()
_hits: dict[str, int] = {}

POINTS = (
    "engine.after_helpdesk_sync",
    "engine.before_commit",
    "outbox.before_send",
    "outbox.after_send",
    "outbox.after_create",
)
"""Every failpoint in the code, for kill sweeps."""


def arm(name: str, hit: int | None = None) -> None:
    _armed.add(f"{name}@{hit}" if hit else name)


def disarm_all() -> None:
    _armed.clear()
    _hits.clear()


def failpoint(name: str) -> None:
    env = {item.strip() for item in os.environ.get("HYGIENE_FAILPOINTS", "").split(",") if item.strip()}
    _hits[name] = _hits.get(name, 0) + 1
    armed = _armed | env
    if name in armed or f"{name}@{_hits[name]}" in armed:
        raise InjectedCrash(name)


def hits() -> dict[str, int]:
    """How often each failpoint was reached since the last ``disarm_all``."""
    return dict(_hits)
