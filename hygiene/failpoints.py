"""Failpoints: named places where tests can make the process crash, to prove recovery.

``HYGIENE_FAILPOINTS=outbox.after_send`` (comma-separated) arms a point for a whole process, so a
test can crash a real ``hygiene run`` between "posted" and "recorded" and then rerun it.
"""

from __future__ import annotations

import os

from hygiene.errors import InjectedCrash

_armed: set[str] = set()


def arm(name: str) -> None:
    _armed.add(name)


def disarm_all() -> None:
    _armed.clear()


def failpoint(name: str) -> None:
    env = {item.strip() for item in os.environ.get("HYGIENE_FAILPOINTS", "").split(",") if item.strip()}
    if name in _armed or name in env:
        raise InjectedCrash(name)
