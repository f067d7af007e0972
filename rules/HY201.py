"""HY201 stale-ticket."""

from __future__ import annotations

from typing import Any

from hygiene.models import Mode, Ticket
from hygiene.ports import TicketContext
from hygiene.rulebase import RuleSettings, TicketRule, TicketRuleSettings, Verdict
from rules.tickets import fmt_hours, last_update, owner

SAYS = {
    "pt": (
        "Atendimento #{ref} ({subject}) está há {age} h úteis sem {what} (SLA {sla} h). "
        "{owner}, pode atualizar o atendimento?"
    ),
    "en": (
        "Ticket #{ref} ({subject}) has gone {age} business hours without {what} (SLA {sla} h). "
        "{owner}, could you update the ticket?"
    ),
}
WHAT = {"pt": ("primeira resposta", "atualização"), "en": ("a first response", "an update")}


class HY201(TicketRule):
    """Flags an open or pending ticket that nobody updated within its SLA window.

    What it does:
        Measures, in business time (working hours, weekends and holidays of the ticket's
        calendar), how long an open or pending ticket has gone since its last update by a
        person — hygiene's own notes never count — and fires when that passes its SLA window:
        the first-response window while nobody has touched it, the update window after that.
        Windows come from ``[[sla]]`` policies by priority, category and department. The owner
        hears about it in Slack (their DM, or the department's channel when they are not found)
        and the ticket is listed in the daily report. It fires again after each new update that
        goes stale in turn. Open tickets with no owner are HY202's case.

    Why it matters:
        Tickets that go quiet past their SLA are client work nobody is doing. The rulebook: if
        the ticket is not up to date, ask its owner to update it.

    Examples:
        Fires:
            #4533 pendente, última atualização sexta 16:30, prioridade alta (8 h úteis) — na
            terça às 10:00 são 13,5 h úteis.
            #8810 open, urgent (4 business hours), last updated yesterday morning.
        Does not fire:
            #4521 atualizado há 2 h úteis (janela de 16 h).
            A ticket updated on Friday at 17:00 when it is Monday at 09:00 (2 business hours).
            Solved and closed tickets.
    """

    code = "HY201"
    name = "stale-ticket"
    summary = "An open or pending ticket with no update by a person within its SLA (business time)"
    default_mode = Mode.NUDGE

    def evaluate(self, ticket: Ticket, ctx: TicketContext, settings: RuleSettings) -> Verdict:
        if not ticket.is_active:
            return Verdict.no(f"{ticket.status}")
        if ticket.status == "open" and not ticket.assignee:
            return Verdict.no("open with no owner: HY202's case")
        last = last_update(ticket)
        measured = ctx.staleness(ticket)
        if last is None or measured is None:
            return Verdict.no("no creation or update time")
        age, sla, first = measured.age, measured.window, measured.first_response
        evidence: dict[str, Any] = {
            "ticket": ticket.reference,
            "age_business_hours": age,
            "sla_business_hours": sla,
            "overdue_business_hours": round(age - sla, 1),
            "window": "first response" if first else "update",
            "policy": measured.policy,
            "assignee": ticket.assignee,
            "key": f"ticket:{ticket.id}:{last.isoformat()}",
            "phrases": [],
        }
        if age <= sla:
            return Verdict.no(f"{age} business hours since the last update, within {sla}", **evidence)
        assert isinstance(settings, TicketRuleSettings)
        language = settings.language
        says = SAYS[language].format(
            ref=ticket.reference,
            subject=ticket.subject,
            age=fmt_hours(age, language),
            what=WHAT[language][0 if first else 1],
            sla=fmt_hours(sla, language),
            owner=owner(ticket, language),
        )
        return Verdict.yes(min(1.0, 0.7 + 0.3 * (age - sla) / max(sla, 1)), evidence, says)
