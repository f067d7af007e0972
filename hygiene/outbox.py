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
from hygiene.ports import Chat, Helpdesk
from hygiene.store import Store
from hygiene.ticket_links import created_message, parse_draft

log = structlog.get_logger("hygiene.outbox")

MAX_ATTEMPTS = 5


@dataclass
class Delivery:
    sent: int = 0
    recovered: int = 0
    deferred: int = 0
    failed: int = 0
    created: int = 0
    errors: list[str] = field(default_factory=list)


def deliver(store: Store, chat: Chat, clock: Clock, helpdesk: Helpdesk | None = None) -> Delivery:
    """Everything due in the outbox; a ticket created here queues its thread reply, sent in the same call."""
    result = Delivery()
    closed_kinds: set[ActionKind] = set()
    for _ in range(3):
        before = result.sent
        _deliver_once(store, chat, clock, helpdesk, result, closed_kinds)
        if result.sent == before or not result.created:
            break
        result.created = 0
    return result


def _deliver_once(
    store: Store,
    chat: Chat,
    clock: Clock,
    helpdesk: Helpdesk | None,
    result: Delivery,
    closed_kinds: set[ActionKind],
) -> None:
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
            if action.kind == ActionKind.CREATE_TICKET:
                _create(store, chat, clock, helpdesk, action)
                result.sent += 1
                result.created += 1
                continue
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


def _create(store: Store, chat: Chat, clock: Clock, helpdesk: Helpdesk | None, action: Action) -> None:
    """Create the ticket (idempotent by the action's key), then link the thread and queue the reply.

    A crash after the helpdesk created the ticket and before this commits leaves the action
    ``sending``; the rerun calls the helpdesk again with the same key and gets the same ticket.
    """
    if helpdesk is None:
        raise ExternalError("helpdesk", "no helpdesk is configured to create tickets in", transient=False)
    permalink = chat.permalink(action.channel, action.thread_ts) if action.thread_ts else None
    draft, language = parse_draft(action.text, permalink)
    ticket = helpdesk.create_ticket(draft, action.key)
    failpoint("outbox.after_create")
    now = clock.now()
    with store.atomic():
        store.save_tickets(helpdesk.name, [ticket], now)
        if action.thread_ts:
            store.link(action.channel, action.thread_ts, ticket.id, helpdesk.name, "created", now)
            reply = Action(
                kind=ActionKind.THREAD_REPLY,
                key=f"{action.fingerprint}:created",
                channel=action.channel,
                thread_ts=action.thread_ts,
                text=created_message(ticket, helpdesk.display_name, language),
                user=action.user,
                fingerprint=action.fingerprint,
                rule="created",
            )
            store.enqueue(reply, now)
        store.mark(action.key, "done", now, ts=ticket.id)
    log.info("outbox.ticket_created", key=action.key, ticket=ticket.id, helpdesk=helpdesk.name)


def _already_done(store: Store, chat: Chat, clock: Clock, action: Action, created_at: datetime) -> bool:
    """For an interrupted action: is its effect already there? Marks it done when it is."""
    if action.kind == ActionKind.EPHEMERAL:
        store.mark(action.key, "done", clock.now(), error="interrupted ephemeral: not resent (at most once)")
        return True
    if action.kind == ActionKind.CREATE_TICKET:
        return False  # creating again with the same key finds the ticket the interrupted try made
    since = created_at - timedelta(minutes=1)
    found = chat.find_posted(action, f"{since.timestamp():.6f}")
    if found:
        store.mark(action.key, "done", clock.now(), ts=found)
        log.info("outbox.recovered", key=action.key, ts=found)
        return True
    return False
