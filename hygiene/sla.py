"""SLA policies: which response and update windows apply to a ticket, and in which calendar.

Policies come from the TOML (``[[sla]]``) before the built-in defaults, which follow the
teams' rulebook: urgent answered in 10 minutes, normal in 40, a question by the next business
day, and an update window per priority. Of the policies that match (each of priority, category
and department that a policy names must match), the most specific wins — a category weighs more
than a department, a department more than a priority — and ties go to the first listed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hygiene.business_time import BusinessCalendar, hours
from hygiene.config import Config, SlaPolicy
from hygiene.models import SlaTerms, Staleness, Ticket
from hygiene.text import fold

DEFAULT_POLICIES = (
    SlaPolicy(priority="urgent", first_response_minutes=10, update_hours=4),
    SlaPolicy(priority="high", first_response_minutes=30, update_hours=8),
    SlaPolicy(priority="normal", first_response_minutes=40, update_hours=16),
    SlaPolicy(priority="low", first_response_minutes=40, update_hours=40),
    SlaPolicy(category="Pergunta", first_response_minutes=600, update_hours=16),
    SlaPolicy(category="Question", first_response_minutes=600, update_hours=16),
)


class SlaBook:
    def __init__(
        self,
        policies: Sequence[SlaPolicy],
        default_calendar: BusinessCalendar,
        calendars_by_department: Mapping[str, BusinessCalendar] | None = None,
    ) -> None:
        self.policies = [*policies, *DEFAULT_POLICIES]
        self.default_calendar = default_calendar
        self.calendars = {fold(k): v for k, v in (calendars_by_department or {}).items()}

    @classmethod
    def from_config(cls, config: Config) -> SlaBook:
        zone = ZoneInfo(config.hygiene.timezone)
        by_department = {
            department: section.build(zone)
            for section in config.calendars.values()
            for department in section.departments
        }
        return cls(config.sla, config.calendar.build(zone), by_department)

    def calendar(self, ticket: Ticket) -> BusinessCalendar:
        return self.calendars.get(fold(ticket.department or ""), self.default_calendar)

    def overdue(self, ticket: Ticket, now: datetime) -> Staleness | None:
        """How far an open or pending ticket is past its SLA window, in business hours (None: no dates)."""
        last = ticket.updated_at or ticket.created_at
        if last is None or not ticket.is_active:
            return None
        terms = self.terms(ticket)
        untouched = ticket.updated_at is None or (
            ticket.created_at is not None and ticket.updated_at <= ticket.created_at
        )
        window = terms.first_response if untouched else terms.update
        age = hours(self.calendar(ticket).between(last, now))
        return Staleness(round(age, 1), round(hours(window), 1), first_response=untouched, policy=terms.policy)

    def terms(self, ticket: Ticket) -> SlaTerms:
        best, best_rank = None, -1
        for index, policy in enumerate(self.policies):
            keys = {"priority": policy.priority, "category": policy.category, "department": policy.department}
            named = {k: v for k, v in keys.items() if v is not None}
            if all(fold(str(getattr(ticket, k) or "")) == fold(v) for k, v in named.items()):
                rank = sum(WEIGHTS[k] for k in named) * 1000 - index
                if rank > best_rank:
                    best, best_rank = policy, rank
        assert best is not None, "the defaults cover every priority"
        described = ", ".join(f"{k}={v}" for k in ("priority", "category", "department") if (v := getattr(best, k)))
        return SlaTerms(timedelta(minutes=best.first_response_minutes), timedelta(hours=best.update_hours), described)


WEIGHTS = {"category": 4, "department": 2, "priority": 1}


@dataclass(frozen=True)
class TicketClock:
    """The :class:`~hygiene.ports.TicketContext` rules see: the time and the SLA book."""

    now: datetime
    book: SlaBook

    def calendar(self, ticket: Ticket) -> BusinessCalendar:
        return self.book.calendar(ticket)

    def staleness(self, ticket: Ticket) -> Staleness | None:
        return self.book.overdue(ticket, self.now)

    def terms(self, ticket: Ticket) -> SlaTerms:
        return self.book.terms(ticket)
