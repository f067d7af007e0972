"""Judging the helpdesk snapshot with the ticket rules (HY2xx) and telling the right person."""

from __future__ import annotations

from datetime import datetime

import structlog

from hygiene.business_time import BusinessCalendar
from hygiene.models import Action, Ticket
from hygiene.policy import Policy
from hygiene.recipients import Recipients
from hygiene.rulebase import TicketRule
from hygiene.sla import SlaBook, TicketClock
from hygiene.store import Store

log = structlog.get_logger("hygiene.tickets")


class TicketWatch:
    def __init__(
        self,
        rules: list[TicketRule],
        book: SlaBook,
        store: Store,
        policy: Policy,
        recipients: Recipients,
        calendar: BusinessCalendar | None,
    ) -> None:
        self.rules = rules
        self.book = book
        self.store = store
        self.policy = policy
        self.recipients = recipients
        self.calendar = calendar

    def judge(self, tickets: list[Ticket], now: datetime) -> tuple[dict[str, int], int]:
        """Findings per rule and the number of actions written to the outbox."""
        context = TicketClock(now, self.book)
        findings: dict[str, int] = {}
        enqueued = 0
        for ticket in tickets:
            if not ticket.is_active:
                continue
            for rule in self.rules:
                verdict = rule.verdict(ticket, context)
                if not verdict.fired:
                    continue
                finding = rule.finding(ticket, verdict)
                if self.store.findings.has(finding.fingerprint):
                    continue
                recipient = self.recipients.for_ticket(ticket, now, owner_first=rule.tells == "owner")
                if recipient is None:
                    decision = "suppressed:no_recipient"
                else:
                    decision = self.policy.decide_ticket(finding, rule.settings_for(ticket), recipient.user, now)
                self.store.findings.add(finding, decision, now)
                findings[rule.code] = findings.get(rule.code, 0) + 1
                log.info("ticket_finding", rule=rule.code, ticket=ticket.reference, action=decision)
                if recipient is None or decision not in ("nudge", "auto"):
                    continue
                action = Action(
                    kind=recipient.kind,
                    key=f"{finding.fingerprint}:{recipient.kind.value}",
                    channel=recipient.channel,
                    text=finding.message,
                    user=recipient.user,
                    source=recipient.source,
                    fingerprint=finding.fingerprint,
                    rule=rule.code,
                )
                not_before = self.calendar.next_open(now) if self.calendar else None
                enqueued += self.store.outbox.enqueue(action, now, not_before)
        return findings, enqueued
