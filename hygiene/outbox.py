"""Carrying out what the outbox holds, exactly once, and never dropping it.

Each action is marked ``sending`` (committed; that is one attempt) before it is tried and ``done``
after. What happens on a failure depends on its kind (typed errors, hygiene/errors.py):

* a write of unknown outcome (a timeout, a reset, a 5xx after sending) is ``unknown``: it is
  looked for by its key at once, and again on later tries; it is sent again only when it is
  still not found ``settle_seconds`` after it became unknown — a write that lands late is found,
  not doubled. An entry found still ``sending`` was interrupted by a crash: it is looked for too.
* a transient failure (429, 5xx, timeout before sending, a lookup whose source failed) leaves
  the entry ``pending`` with a next attempt time (exponential backoff with jitter);
* a permanent failure (a validation error the remote names, a 4xx) is ``failed`` and surfaced;
* an entry still not done after ``max_age_hours`` is escalated: ``failed``, with its last error.

Ephemerals cannot be read back: they are at most once.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

import structlog

from hygiene.clock import Clock
from hygiene.errors import (
    BudgetExhausted,
    ExternalError,
    OutcomeUnknown,
    PermanentError,
    RateLimited,
    TransientError,
)
from hygiene.failpoints import failpoint
from hygiene.models import LEGACY_SOURCE, Action, ActionKind, Ticket
from hygiene.ports import ChatSink, Helpdesk, TicketDraft
from hygiene.store import OutboxEntry, Store
from hygiene.ticket_links import ask_client_message, created_message, parse_draft, set_client_message

log = structlog.get_logger("hygiene.outbox")

ClientResolver = Callable[[Action, TicketDraft], TicketDraft]
"""Fills a draft's client from the helpdesk's client directory (client None when unknown)."""


class ClientNeeded(TransientError):
    """The helpdesk needs a client the directory could not tell: the entry waits for a lead."""


@dataclass(frozen=True)
class RetryRules:
    backoff: timedelta = timedelta(seconds=60)
    backoff_max: timedelta = timedelta(minutes=30)
    settle: timedelta = timedelta(seconds=120)
    max_age: timedelta = timedelta(hours=48)
    leads: tuple[str, ...] = ()
    channel_leads: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def wait(self, attempts: int, rng: random.Random) -> timedelta:
        """Exponential backoff with full jitter in its upper half (as tenacity's wait_random_exponential)."""
        ceiling = min(self.backoff_max.total_seconds(), self.backoff.total_seconds() * 2 ** max(0, attempts - 1))
        return timedelta(seconds=ceiling * rng.uniform(0.5, 1.0))

    def leads_for(self, *channels: str | None) -> tuple[str, ...]:
        for channel in channels:
            if channel and channel in self.channel_leads:
                return self.channel_leads[channel]
        return self.leads


@dataclass
class Delivery:
    sent: int = 0
    recovered: int = 0
    deferred: int = 0
    failed: int = 0
    created: int = 0
    retrying: int = 0
    unknown: int = 0
    escalated: int = 0
    errors: list[str] = field(default_factory=list)


def deliver(
    store: Store,
    chats: Mapping[str, ChatSink] | ChatSink,
    clock: Clock,
    helpdesk: Helpdesk | None = None,
    rules: RetryRules | None = None,
    resolve: ClientResolver | None = None,
    rng: random.Random | None = None,
) -> Delivery:
    """Everything due in the outbox, each action through the chat it names (``chats`` by source);
    a ticket created here queues its thread reply, sent in the same call."""
    sinks = {chats.source: chats} if not isinstance(chats, Mapping) else chats
    courier = Courier(store, sinks, clock, helpdesk, rules or RetryRules(), resolve, rng or random.Random())
    for _ in range(3):
        before = courier.result.sent
        for entry in store.outbox.due(clock.now()):
            courier.one(entry)
        if courier.result.sent == before or not (courier.result.created or courier.followups):
            break
        courier.result.created, courier.followups = 0, 0
    return courier.result


class Courier:
    """One delivery pass: what to do with each due entry, and with each kind of failure."""

    def __init__(
        self,
        store: Store,
        chats: Mapping[str, ChatSink],
        clock: Clock,
        helpdesk: Helpdesk | None,
        rules: RetryRules,
        resolve: ClientResolver | None,
        rng: random.Random,
    ) -> None:
        self.store, self.chats, self.clock, self.helpdesk = store, chats, clock, helpdesk
        self.rules, self.resolve, self.rng = rules, resolve, rng
        self.result = Delivery()
        self.followups = 0
        """Entries queued during this pass (a lead asked) that are due at once."""
        self.closed_kinds: set[ActionKind] = set()

    def one(self, entry: OutboxEntry) -> None:
        action = entry.action
        if action.kind in self.closed_kinds:
            self.result.deferred += 1
            return
        if self._too_old(entry):
            self._escalate(entry)
            return
        try:
            if entry.status in ("sending", "unknown") and self._settled(entry):
                return
            self._attempt(entry)
        except BudgetExhausted as exc:
            self.closed_kinds.add(action.kind)
            self.result.deferred += 1
            log.info("outbox.deferred", key=action.key, reason=str(exc))
        except ExternalError as exc:
            self._failed(entry, exc)

    def chat(self, action: Action) -> ChatSink:
        """The chat that carries the action out; a chat no longer configured fails it for good."""
        chat = self.chats.get(action.source)
        if chat is None:
            known = ", ".join(self.chats) or "none"
            raise PermanentError(action.source, f"no chat named {action.source!r} is configured (chats: {known})")
        return chat

    # looking before resending -----------------------------------------------------------------
    def _settled(self, entry: OutboxEntry) -> bool:
        """For an interrupted or unknown-outcome entry: True when nothing more is to be done now
        (its effect was found, or it is too early to resend)."""
        action = entry.action
        if action.kind == ActionKind.EPHEMERAL:
            self.store.outbox.mark(
                action.key, "done", self.clock.now(), error="interrupted ephemeral: not resent (at most once)"
            )
            self.result.recovered += 1
            return True
        if self._found(entry):
            self.result.recovered += 1
            return True
        if entry.status != "unknown" or entry.unknown_since is None:
            return False
        resend_at = entry.unknown_since + self.rules.settle
        if self.clock.now() >= resend_at:
            return False
        self.store.outbox.mark(action.key, "unknown", self.clock.now(), error=entry.error, next_attempt=resend_at)
        self.result.unknown += 1
        return True

    def _found(self, entry: OutboxEntry) -> bool:
        """Is the entry's effect already there (looked up by its key)? Marks it done when it is."""
        action = entry.action
        if action.kind == ActionKind.CREATE_TICKET:
            ticket = self.helpdesk.find_created(action.key) if self.helpdesk else None
            if ticket is None:
                return False
            self._record_ticket(action, ticket, parse_draft(action.text, None)[1])
            return True
        since = entry.created_at - timedelta(minutes=1)
        found = self.chat(action).find_posted(action, since)
        if found:
            self.store.outbox.mark(action.key, "done", self.clock.now(), result=found)
            log.info("outbox.recovered", key=action.key, id=found)
        return bool(found)

    # trying -----------------------------------------------------------------------------------
    def _attempt(self, entry: OutboxEntry) -> None:
        action = entry.action
        self.store.outbox.mark(action.key, "sending", self.clock.now())
        failpoint("outbox.before_send")
        try:
            if action.kind == ActionKind.CREATE_TICKET:
                self._create(action)
                self.result.sent += 1
                self.result.created += 1
                return
            posted = self.chat(action).send(action)
        except BudgetExhausted:
            self.store.outbox.mark(action.key, entry.status, self.clock.now(), error=entry.error, refund=True)
            raise
        except OutcomeUnknown as exc:
            self._unknown(entry, exc)
            return
        failpoint("outbox.after_send")
        self.store.outbox.mark(action.key, "done", self.clock.now(), result=posted)
        self.result.sent += 1

    def _unknown(self, entry: OutboxEntry, exc: OutcomeUnknown) -> None:
        """A write that may have been carried out: look for it now; else wait, then look again."""
        now = self.clock.now()
        settled = now + self.rules.settle
        self.store.outbox.mark(
            entry.action.key, "unknown", now, error=str(exc), next_attempt=settled, fresh_unknown=True
        )
        log.warning("outbox.outcome_unknown", key=entry.action.key, error=str(exc))
        try:
            if self._found(replace(entry, status="unknown", unknown_since=now)):
                self.result.recovered += 1
                return
        except (BudgetExhausted, ExternalError) as lookup:
            log.info("outbox.lookup_failed", key=entry.action.key, error=str(lookup))
        self.result.unknown += 1

    def _failed(self, entry: OutboxEntry, exc: ExternalError) -> None:
        now = self.clock.now()
        key = entry.action.key
        if exc.transient:
            wait = self.rules.wait(entry.attempts + 1, self.rng)
            if isinstance(exc, RateLimited):
                wait = max(wait, timedelta(seconds=exc.retry_after))
            status = "unknown" if entry.status in ("sending", "unknown") else "pending"  # never resent blind
            self.store.outbox.mark(key, status, now, error=str(exc), next_attempt=now + wait)
            self.result.retrying += 1
            log.warning("outbox.retry_later", key=key, kind=entry.action.kind.value, error=str(exc), wait=str(wait))
            return
        self.store.outbox.mark(key, "failed", now, error=str(exc))
        self.result.failed += 1
        self.result.errors.append(str(exc))
        log.warning("outbox.failed", key=key, kind=entry.action.kind.value, error=str(exc))

    def _too_old(self, entry: OutboxEntry) -> bool:
        """Failing for longer than the max age (an entry that never failed is just waiting its turn)."""
        tried = entry.attempts > 0 or entry.error is not None
        return tried and self.clock.now() - entry.created_at > self.rules.max_age

    def _escalate(self, entry: OutboxEntry) -> None:
        hours = self.rules.max_age.total_seconds() / 3600
        error = f"escalated: not done after {hours:g} h ({entry.attempts} attempts); last error: {entry.error or '-'}"
        self.store.outbox.mark(entry.action.key, "failed", self.clock.now(), error=error)
        self.result.escalated += 1
        self.result.failed += 1
        self.result.errors.append(f"{entry.action.key}: {error}")
        log.warning("outbox.escalated", key=entry.action.key, error=error)

    # tickets ----------------------------------------------------------------------------------
    def _create(self, action: Action) -> None:
        """Create the ticket (idempotent by the action's key), then link the thread and queue the reply."""
        helpdesk = self.helpdesk
        if helpdesk is None:
            raise PermanentError("helpdesk", "no helpdesk is configured to create tickets in")
        permalink = self.chat(action).permalink(action.channel, action.thread_id) if action.thread_id else None
        draft, language = parse_draft(action.text, permalink)
        if self.resolve is not None:
            draft = self.resolve(action, draft)
        if self.resolve is not None and draft.client_id is None and helpdesk.requires_client:
            self._ask_leads(action, permalink, language)
            raise ClientNeeded(helpdesk.name, f"which client? the leads were asked (draft client: {draft.client!r})")
        ticket = helpdesk.create_ticket(draft, action.key)
        failpoint("outbox.after_create")
        self._record_ticket(action, ticket, language, ask_owner=self.resolve is not None and draft.client_id is None)

    def _record_ticket(self, action: Action, ticket: Ticket, language: str, *, ask_owner: bool = False) -> None:
        assert self.helpdesk is not None
        helpdesk, now = self.helpdesk, self.clock.now()
        with self.store.atomic():
            self.store.tickets.save(helpdesk.name, [ticket], now)
            if action.thread_id:
                self.store.links.add_thread(
                    action.source, action.channel, action.thread_id, ticket.id, helpdesk.name, "created", now
                )
                text = created_message(ticket, helpdesk.display_name, language)
                if ask_owner:
                    text += " " + set_client_message(helpdesk.display_name, language)
                self.store.outbox.enqueue(_reply(action, "created", text), now)
            self.store.outbox.mark(action.key, "done", now, result=ticket.id)
        log.info("outbox.ticket_created", key=action.key, ticket=ticket.id, helpdesk=helpdesk.name)

    def _ask_leads(self, action: Action, permalink: str | None, language: str) -> None:
        """Ask the channel's leads (DM, once each) — or the thread when none is configured — for the client."""
        assert self.helpdesk is not None
        now = self.clock.now()
        text = ask_client_message(self.helpdesk.display_name, permalink, language, self.chat(action).display_name)
        leads = self.rules.leads_for(action.channel)
        self.followups += 1
        if not leads:
            self.store.outbox.enqueue(_reply(action, "ask-client", text), now)
            return
        for lead in leads:
            ask = Action(
                ActionKind.DM,
                f"{action.key}:ask-client:{lead}",
                action.channel,
                text,
                user=lead,
                rule="ask-client",
                source=action.source,
            )
            self.store.outbox.enqueue(ask, now)


def _reply(action: Action, what: str, text: str) -> Action:
    return Action(
        kind=ActionKind.THREAD_REPLY,
        key=f"{action.fingerprint}:{what}",
        channel=action.channel,
        thread_id=action.thread_id,
        source=action.source,
        text=text,
        user=action.user,
        fingerprint=action.fingerprint,
        rule=what,
    )


def tell_leads(
    store: Store, now: datetime, leads: tuple[str, ...], long_pending: timedelta, source: str = LEGACY_SOURCE
) -> int:
    """A DM to each lead (once per entry, in the chat ``source``) about side effects that failed or have
    waited too long."""
    if not leads:
        return 0
    told = 0
    for entry in store.outbox.unsettled():
        action = entry.action
        if entry.leads_told_at is not None or action.rule in ("lead", "ask-client"):
            continue
        if entry.status != "failed" and now - entry.created_at < long_pending:
            continue
        text = lead_message(entry)
        for lead in leads:
            dm = Action(
                ActionKind.DM, f"lead:{lead}:{action.key}", action.channel, text, user=lead, rule="lead", source=source
            )
            told += store.outbox.enqueue(dm, now)
        store.outbox.mark_leads_told(action.key, now)
    return told


def lead_message(entry: OutboxEntry) -> str:
    state = "falhou" if entry.status == "failed" else "ainda está pendente"
    return (
        f"hygiene: uma ação ({entry.action.kind.value}, canal {entry.action.channel}) {state} após "
        f"{entry.attempts} tentativa(s). Último erro: {entry.error or '-'}. "
        f"Veja `hygiene outbox` e tente de novo com `hygiene outbox retry {entry.action.key}`."
    )
