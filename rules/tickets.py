"""Shared wording and arithmetic for the ticket rules (HY2xx)."""

from __future__ import annotations

from datetime import datetime

from hygiene.business_time import hours
from hygiene.models import Ticket
from hygiene.ports import TicketContext


def last_update(ticket: Ticket) -> datetime | None:
    return ticket.updated_at or ticket.created_at


def business_hours(start: datetime, end: datetime, ticket: Ticket, ctx: TicketContext) -> float:
    return round(hours(ctx.calendar(ticket).between(start, end)), 1)


def owner(ticket: Ticket, language: str = "pt") -> str:
    return ticket.assignee or ("sem responsável" if language == "pt" else "nobody")


def fmt_hours(value: float, language: str = "pt") -> str:
    text = f"{value:.1f}"
    return text.replace(".", ",") if language == "pt" else text
