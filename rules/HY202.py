"""HY202 unassigned-ticket."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from hygiene.models import Mode, Ticket
from hygiene.ports import TicketContext
from hygiene.rulebase import RuleSettings, TicketRule, TicketRuleSettings, Verdict
from rules.tickets import business_hours, fmt_hours

SAYS = {
    "pt": "Atendimento #{ref} ({subject}) está aberto há {age} h úteis sem responsável. Quem assume?",
    "en": "Ticket #{ref} ({subject}) has been open for {age} business hours with no owner. Who takes it?",
}


class HY202(TicketRule):
    """Flags an open ticket that nobody owns after a while.

    What it does:
        Fires on an open ticket with no owner once it has been open for
        ``unassigned_minutes`` of business time. The department's channel hears about it
        (``[report] department_channels``), since there is no owner to tell.

    Why it matters:
        A ticket without an owner is everybody's and so nobody's; the client waits while the
        team assumes someone else took it.

    Examples:
        Fires:
            #4600 aberto às 09:00, sem responsável, às 10:00 (60 min úteis).
            #8870 open since Friday 17:30 without an assignee, on Monday at 09:00.
        Does not fire:
            #4601 aberto há 10 minutos úteis.
            A pending or solved ticket, or one with an owner.
    """

    code = "HY202"
    name = "unassigned-ticket"
    summary = "An open ticket with no owner after N business minutes"
    default_mode = Mode.NUDGE
    tells = "department"

    class Settings(TicketRuleSettings):
        unassigned_minutes: float = Field(30, gt=0, description="Business minutes an open ticket may go unowned.")

    def evaluate(self, ticket: Ticket, ctx: TicketContext, settings: RuleSettings) -> Verdict:
        assert isinstance(settings, HY202.Settings)
        if ticket.status != "open":
            return Verdict.no(f"{ticket.status}")
        if ticket.assignee:
            return Verdict.no(f"owned by {ticket.assignee}")
        if ticket.created_at is None:
            return Verdict.no("no creation time")
        age = business_hours(ticket.created_at, ctx.now, ticket, ctx)
        limit = round(settings.unassigned_minutes / 60, 1)
        evidence: dict[str, Any] = {
            "ticket": ticket.reference,
            "age_business_hours": age,
            "sla_business_hours": limit,
            "overdue_business_hours": round(age - limit, 1),
            "department": ticket.department,
            "key": f"ticket:{ticket.id}:unassigned",
            "phrases": [],
        }
        if age < limit:
            return Verdict.no(f"open for {age} business hours, under {limit}", **evidence)
        says = SAYS[settings.language].format(
            ref=ticket.reference, subject=ticket.subject, age=fmt_hours(age, settings.language)
        )
        return Verdict.yes(0.9, evidence, says)
