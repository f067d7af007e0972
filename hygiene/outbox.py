"""Carrying out what the outbox holds, exactly once.

Each action is marked ``sending`` (committed) before it is attempted and ``done`` after. An
action found still ``sending`` was interrupted: before trying again we ask Slack whether the
message is already there (by the key in its metadata), so a crash between "posted" and
"recorded" never posts twice. Ephemerals cannot be read back: they are at most once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog

from hygiene.clock import Clock
from hygiene.errors import BudgetExhausted, ExternalError
from hygiene.failpoints import failpoint
from hygiene.models import Action, ActionKind
from hygiene.ports import Chat
from hygiene.store import Store

log = structlog.get_logger("hygiene.outbox")

MAX_ATTEMPTS = 5


@dataclass
class Delivery:
    sent: int = 0
    recovered: int = 0
    deferred: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)


def deliver(store: Store, chat: Chat, clock: Clock) -> Delivery:
    result = Delivery()
    closed_kinds: set[ActionKind] = set()
    for action, status, created_at, attempts in store.unfinished(clock.now()):
        if action.kind in closed_kinds:
            result.deferred += 1
            continue
        try:
            if status == "sending" and _already_done(store, chat, clock, action, created_at):
                result.recovered += 1
                continue
            if attempts >= MAX_ATTEMPTS:
                store.mark(action.key, "failed", clock.now(), error=f"gave up after {attempts} attempts")
                result.failed += 1
                continue
            store.mark(action.key, "sending", clock.now())
            ts = chat.send(action)
        except BudgetExhausted as exc:
            store.mark(action.key, status, clock.now(), error=str(exc))
            closed_kinds.add(action.kind)
            result.deferred += 1
            continue
        except ExternalError as exc:
            # A transient failure may still have posted (a timeout after Slack accepted it): the
            # row stays "sending" and the next cycle checks before trying again.
            store.mark(action.key, "sending" if exc.transient else "failed", clock.now(), error=str(exc))
            result.failed += 1
            result.errors.append(str(exc))
            log.warning("outbox.failed", key=action.key, kind=action.kind.value, error=str(exc))
            continue
        failpoint("outbox.after_send")
        store.mark(action.key, "done", clock.now(), ts=ts)
        result.sent += 1
    return result


def _already_done(store: Store, chat: Chat, clock: Clock, action: Action, created_at: datetime) -> bool:
    """For an interrupted action: is its effect already there? Marks it done when it is."""
    if action.kind == ActionKind.EPHEMERAL:
        store.mark(action.key, "done", clock.now(), error="interrupted ephemeral: not resent (at most once)")
        return True
    since = created_at - timedelta(minutes=1)
    found = chat.find_posted(action, f"{since.timestamp():.6f}")
    if found:
        store.mark(action.key, "done", clock.now(), ts=found)
        log.info("outbox.recovered", key=action.key, ts=found)
        return True
    return False
