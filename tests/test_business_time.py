"""Business time and SLA with frozen times: nights, weekends, a national holiday, each priority."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from hygiene.business_time import BusinessCalendar, hours
from hygiene.config import SlaPolicy, parse
from hygiene.models import Ticket
from hygiene.sla import SlaBook

SP = ZoneInfo("America/Sao_Paulo")
CAL = BusinessCalendar(SP, subdivision="SP")


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SP)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        ("2026-11-18T09:00", "2026-11-18T11:30", 2.5),  # same day
        ("2026-11-17T22:00", "2026-11-18T09:00", 1.0),  # overnight: the night does not count
        ("2026-11-13T17:00", "2026-11-16T09:00", 2.0),  # Friday evening to Monday morning
        ("2026-11-19T17:00", "2026-11-23T10:00", 3.0),  # Thursday to Monday across Black Awareness Day (20th)
        ("2026-11-14T10:00", "2026-11-15T16:00", 0.0),  # a weekend
        ("2026-11-18T07:00", "2026-11-18T19:00", 10.0),  # before opening to after closing
        ("2026-11-18T12:00", "2026-11-18T11:00", 0.0),  # end before start
    ],
)
def test_between(start: str, end: str, expected: float) -> None:
    assert hours(CAL.between(at(start), at(end))) == expected


def test_national_and_state_holidays() -> None:
    assert CAL.holiday_name(date(2026, 11, 20)) == "National Day of Zumbi and Black Awareness"
    assert not CAL.is_business_day(date(2026, 7, 9)), "São Paulo's Constitutionalist Revolution"
    assert BusinessCalendar(SP).is_business_day(date(2026, 7, 9)), "…which is not a national holiday"
    assert not BusinessCalendar(SP, days_off=[date(2026, 12, 24)]).is_business_day(date(2026, 12, 24))


@pytest.mark.parametrize(
    ("start", "duration_hours", "expected"),
    [
        ("2026-11-18T17:00", 2, "2026-11-19T09:00"),
        ("2026-11-19T17:00", 2, "2026-11-23T09:00"),  # skips the holiday and the weekend
        ("2026-11-18T20:00", 1, "2026-11-19T09:00"),  # starts counting when the day opens
        ("2026-11-18T09:00", 0.5, "2026-11-18T09:30"),
    ],
)
def test_add(start: str, duration_hours: float, expected: str) -> None:
    assert CAL.add(at(start), timedelta(hours=duration_hours)) == at(expected)


def test_next_open_waits_for_working_hours_and_quiet_hours() -> None:
    calendar = BusinessCalendar(SP, subdivision="SP", quiet=[(time(12, 0), time(13, 0))])
    assert calendar.next_open(at("2026-11-18T10:00")) == at("2026-11-18T10:00")
    assert calendar.next_open(at("2026-11-18T12:20")) == at("2026-11-18T13:00")
    assert calendar.next_open(at("2026-11-18T19:00")) == at("2026-11-19T08:00")
    assert calendar.next_open(at("2026-11-19T18:30")) == at("2026-11-23T08:00")


def test_naive_times_are_the_teams_time_zone() -> None:
    naive = datetime(2026, 11, 18, 9, 0)
    assert CAL.local(naive) == at("2026-11-18T09:00")


def ticket(**fields: object) -> Ticket:
    return Ticket.model_validate({"id": "1", "subject": "s", "status": "open", **fields})


def test_default_policies_follow_the_rulebook() -> None:
    book = SlaBook([], CAL)
    assert book.terms(ticket(priority="urgent")).first_response == timedelta(minutes=10)
    assert book.terms(ticket(priority="normal")).first_response == timedelta(minutes=40)
    assert book.terms(ticket(priority="high")).update == timedelta(hours=8)
    assert book.terms(ticket(priority="low")).update == timedelta(hours=40)
    question = book.terms(ticket(priority="normal", category="pergunta"))
    assert question.first_response == timedelta(hours=10), "a question: by the next business day"
    assert question.policy == "category=Pergunta"


def test_configured_policies_win_by_specificity() -> None:
    book = SlaBook(
        [
            SlaPolicy(priority="normal", first_response_minutes=30, update_hours=8),
            SlaPolicy(priority="normal", department="Fiscal", first_response_minutes=20, update_hours=4),
        ],
        CAL,
    )
    assert book.terms(ticket(priority="normal")).update == timedelta(hours=8)
    assert book.terms(ticket(priority="normal", department="fiscal")).update == timedelta(hours=4)
    assert book.terms(ticket(priority="urgent", department="Fiscal")).update == timedelta(hours=4)  # default urgent


def test_team_calendars_by_department() -> None:
    config = parse(
        {
            "slack": {"channels": ["a"]},
            "calendar": {"subdivision": "SP"},
            "calendars": {"plantao": {"workdays": ["sat", "sun"], "hours": "09:00-13:00", "departments": ["Plantão"]}},
        }
    )
    book = SlaBook.from_config(config)
    weekend = book.calendar(ticket(department="Plantão"))
    assert hours(weekend.between(at("2026-11-21T08:00"), at("2026-11-22T18:00"))) == 8.0
    assert hours(book.calendar(ticket()).between(at("2026-11-21T08:00"), at("2026-11-22T18:00"))) == 0.0


def test_calendar_config_errors_name_the_key() -> None:
    from hygiene.errors import ConfigError

    with pytest.raises(ConfigError) as caught:
        parse({"slack": {"channels": ["a"]}, "calendar": {"hours": "18:00-08:00", "workdays": ["funday"]}})
    assert "calendar.workdays: unknown day 'funday' (use mon, tue, wed, thu, fri, sat, sun)" in caught.value.problems
    assert "calendar.hours: working hours must end after they start" in caught.value.problems
    with pytest.raises(ConfigError) as caught:
        parse({"slack": {"channels": ["a"]}, "calendar": {"country": "XX"}})
    assert caught.value.problems[0].startswith("calendar: no holidays known for XX")
