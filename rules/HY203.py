"""HY203 due-soon."""

from __future__ import annotations

from typing import Any

from pydantic import Field, field_validator

from hygiene.models import Mode, Ticket
from hygiene.ports import TicketContext
from hygiene.rulebase import RuleSettings, TicketRule, TicketRuleSettings, Verdict
from rules.tickets import business_hours, fmt_hours, owner

SOON = {
    "pt": "Atendimento #{ref} ({subject}) vence em {left} h úteis ({due}). {owner}, está no caminho?",
    "en": "Ticket #{ref} ({subject}) is due in {left} business hours ({due}). {owner}, on track?",
}
MISSED = {
    "pt": "Atendimento #{ref} ({subject}) venceu há {late} h úteis ({due}) e segue {status}. {owner}, pode atualizar?",
    "en": "Ticket #{ref} ({subject}) was due {late} business hours ago ({due}) and is still {status}. {owner}, update?",
}


class HY203(TicketRule):
    """Warns an owner as a ticket's due date gets close, and once when it is missed.

    What it does:
        For an open or pending ticket with a due date (G Click tasks have one), fires once at
        each of ``warn_hours`` business hours before it is due (3, 2 and 1 by default: the
        tightest threshold crossed when the cycle runs) and once more when the date passes.

    Why it matters:
        A due date that passes quietly is a fine, a missed filing or a client let down; a
        warning three hours ahead leaves time to act.

    Examples:
        Fires:
            #4540 vence hoje às 17:00; às 14:30 faltam 2,5 h úteis (aviso de 3 h).
            #8855 was due yesterday at 18:00 and is still open (missed).
        Does not fire:
            A ticket due next week.
            A solved ticket past its due date.
    """

    code = "HY203"
    name = "due-soon"
    summary = "A ticket whose due date is near (graduated warnings) or missed"
    default_mode = Mode.NUDGE

    class Settings(TicketRuleSettings):
        warn_hours: list[float] = Field(
            default_factory=lambda: [3.0, 2.0, 1.0], description="Warn at these business hours before the due date."
        )

        @field_validator("warn_hours")
        @classmethod
        def _positive(cls, value: list[float]) -> list[float]:
            if not value or any(h <= 0 for h in value):
                raise ValueError("give one or more positive numbers of hours")
            return sorted(value, reverse=True)

    def evaluate(self, ticket: Ticket, ctx: TicketContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY203.Settings)
        if not ticket.is_active:
            return Verdict.no(f"{ticket.status}")
        if ticket.due_at is None:
            return Verdict.no("no due date")
        calendar = ctx.calendar(ticket)
        due = calendar.local(ticket.due_at)
        start = ticket.created_at or ticket.updated_at or due
        left = business_hours(ctx.now, due, ticket, ctx)
        late = business_hours(due, ctx.now, ticket, ctx)
        missed = calendar.local(ctx.now) >= due
        evidence: dict[str, Any] = {
            "ticket": ticket.reference,
            "due_at": due.isoformat(),
            "age_business_hours": business_hours(start, ctx.now, ticket, ctx),
            "sla_business_hours": business_hours(start, due, ticket, ctx),
            "overdue_business_hours": late if missed else -left,
            "phrases": [],
        }
        when = f"{due:%d/%m %H:%M}"
        if missed:
            evidence["stage"] = "missed"
            evidence["key"] = f"ticket:{ticket.id}:due:{due.isoformat()}:missed"
            says = MISSED[settings.language].format(
                ref=ticket.reference,
                subject=ticket.subject,
                late=fmt_hours(late, settings.language),
                due=when,
                status=ticket.status,
                owner=owner(ticket, settings.language),
            )
            return Verdict.yes(1.0, evidence, says)
        crossed = [h for h in settings.warn_hours if left <= h]
        if not crossed:
            return Verdict.no(f"due in {left} business hours, before the first warning", **evidence)
        stage = min(crossed)
        evidence["stage"] = f"{stage:g}h"
        evidence["key"] = f"ticket:{ticket.id}:due:{due.isoformat()}:{stage:g}h"
        language = settings.language
        says = SOON[language].format(
            ref=ticket.reference,
            subject=ticket.subject,
            left=fmt_hours(left, language),
            due=when,
            owner=owner(ticket, language),
        )
        return Verdict.yes(0.8 + 0.2 * (1 - left / max(settings.warn_hours)), evidence, says)
