"""Working days and the callback deadline: before the end of the next working day."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from phoneservice.domain.errors import DomainError, require_aware
from phoneservice.domain.hours.calendar import Calendar
from phoneservice.domain.hours.wallclock import wall_datetime

_SEARCH_DAYS = 400


def next_working_day(calendar: Calendar, after: date) -> date:
    """The first working day strictly after ``after``."""
    day = after
    for _ in range(_SEARCH_DAYS):
        day += timedelta(days=1)
        if calendar.is_working_day(day):
            return day
    raise DomainError(f"no working day within {_SEARCH_DAYS} days after {after}")


def workday_end(calendar: Calendar, day: date, tz: ZoneInfo) -> datetime:
    """The instant a working day ends: ``workday_end``, or the early close of a half day."""
    return wall_datetime(day, calendar.workday_end_minute(day), tz)


def deadline(calendar: Calendar, received_at: datetime, tz: ZoneInfo) -> datetime:
    """When a call missed at ``received_at`` must be acknowledged (SPEC 4.3)."""
    require_aware(received_at, "received_at")
    local_day = received_at.astimezone(tz).date()
    return workday_end(calendar, next_working_day(calendar, local_day), tz)
