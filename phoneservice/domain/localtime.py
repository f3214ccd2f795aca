"""Reading times that people type: naive ones are local to the registry."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from phoneservice.domain.hours.wallclock import from_epoch, wall_epoch


def localize(value: datetime, tz: ZoneInfo) -> datetime:
    """An aware datetime: naive values are wall-clock times in ``tz`` (DST rules apply)."""
    if value.tzinfo is not None and value.utcoffset() is not None:
        return value.astimezone(tz)
    minute = value.hour * 60 + value.minute
    epoch = wall_epoch(value.date(), minute, tz) + value.second + value.microsecond / 1e6
    return from_epoch(epoch, tz)


def parse_instant(text: str, tz: ZoneInfo) -> datetime:
    """An ISO 8601 date-time; without an offset it is local to ``tz``. ValueError if bad."""
    return localize(datetime.fromisoformat(text.strip()), tz)


def parse_day(text: str) -> date:
    """An ISO 8601 date (YYYY-MM-DD). ValueError if bad."""
    return date.fromisoformat(text.strip())


def iso(value: datetime | None) -> str | None:
    """An instant as ISO 8601 with its offset, to the second."""
    return None if value is None else value.isoformat(timespec="seconds")
