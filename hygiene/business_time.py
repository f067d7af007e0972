"""Business time: working hours, weekends, public holidays and days off, in the team's time zone.

Ages and SLA windows are measured in business time — a ticket opened on Friday at 17:00 is one
business hour old on Monday at 09:00 (with 08:00–18:00 hours). Holidays come from the
``holidays`` library (Brazil by default, with an optional state such as ``SP``).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class BusinessCalendar:
    def __init__(
        self,
        zone: ZoneInfo,
        *,
        workdays: Iterable[int] = (0, 1, 2, 3, 4),
        opens: time = time(8, 0),
        closes: time = time(18, 0),
        country: str | None = "BR",
        subdivision: str | None = None,
        days_off: Iterable[date] = (),
        quiet: Iterable[tuple[time, time]] = (),
    ) -> None:
        if closes <= opens:
            raise ValueError("working hours must close after they open")
        self.zone = zone
        self.workdays = frozenset(workdays)
        self.opens = opens
        self.closes = closes
        self.country = country
        self.subdivision = subdivision
        self.days_off = frozenset(days_off)
        self.quiet = tuple(quiet)

    @cached_property
    def _holidays(self) -> holidays.HolidayBase | None:
        if not self.country:
            return None
        return holidays.country_holidays(self.country, subdiv=self.subdivision)

    def local(self, moment: datetime) -> datetime:
        """An aware moment in the team's zone (naive times are taken as already local)."""
        return moment.replace(tzinfo=self.zone) if moment.tzinfo is None else moment.astimezone(self.zone)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() not in self.workdays or day in self.days_off:
            return False
        return not (self._holidays is not None and day in self._holidays)

    def holiday_name(self, day: date) -> str | None:
        if self._holidays is None:
            return None
        name = self._holidays.get(day)
        return str(name) if name else None

    def _window(self, day: date) -> tuple[datetime, datetime]:
        return (
            datetime.combine(day, self.opens, tzinfo=self.zone),
            datetime.combine(day, self.closes, tzinfo=self.zone),
        )

    def is_open(self, moment: datetime) -> bool:
        local = self.local(moment)
        if not self.is_business_day(local.date()):
            return False
        start, end = self._window(local.date())
        return start <= local < end and not self._in_quiet(local)

    def _in_quiet(self, local: datetime) -> bool:
        return self._quiet_end(local) is not None

    def _quiet_end(self, local: datetime) -> datetime | None:
        """When the quiet window ``local`` falls in ends, or None when it is not quiet."""
        now = local.time()
        for start, end in self.quiet:
            if start < end and start <= now < end:
                return datetime.combine(local.date(), end, tzinfo=self.zone)
            if start > end and (now >= start or now < end):
                day = local.date() + timedelta(days=1) if now >= start else local.date()
                return datetime.combine(day, end, tzinfo=self.zone)
        return None

    def between(self, start: datetime, end: datetime) -> timedelta:
        """Business time from ``start`` to ``end`` (zero when ``end`` is not after ``start``)."""
        a, b = self.local(start), self.local(end)
        if b <= a:
            return timedelta(0)
        total = timedelta(0)
        day = a.date()
        while day <= b.date():
            if self.is_business_day(day):
                opens, closes = self._window(day)
                lo, hi = max(a, opens), min(b, closes)
                if hi > lo:
                    total += hi - lo
            day += timedelta(days=1)
        return total

    def add(self, start: datetime, duration: timedelta) -> datetime:
        """The moment ``duration`` of business time after ``start``."""
        moment = self.local(start)
        left = duration
        for _ in range(3660):  # ten years of days: a bound, never reached by a sane SLA
            day = moment.date()
            if self.is_business_day(day):
                opens, closes = self._window(day)
                moment = max(moment, opens)
                if moment < closes:
                    room = closes - moment
                    if left <= room:
                        return moment + left
                    left -= room
            moment = datetime.combine(day + timedelta(days=1), time(0), tzinfo=self.zone)
        raise ValueError("no business time in the next ten years: check the calendar")

    def next_open(self, moment: datetime) -> datetime:
        """``moment`` itself when people can be nudged then, else the next moment they can."""
        local = self.local(moment)
        for _ in range(3660):
            if self.is_open(local):
                return local
            if self.is_business_day(local.date()):
                opens, closes = self._window(local.date())
                if local < opens:
                    local = opens
                    continue
                quiet_end = self._quiet_end(local)
                if local < closes and quiet_end is not None:
                    local = quiet_end
                    continue
            local = datetime.combine(local.date() + timedelta(days=1), self.opens, tzinfo=self.zone)
        raise ValueError("the calendar is never open")


def hours(delta: timedelta) -> float:
    return delta.total_seconds() / 3600
