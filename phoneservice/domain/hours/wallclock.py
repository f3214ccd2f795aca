"""Wall-clock times on a date, turned into instants across daylight-saving changes.

A wall-clock time that does not exist (spring forward) is skipped: it maps to the
instant the clock jumps, so an interval that lies wholly in the gap is empty. A time
that occurs twice (fall back) uses its first occurrence.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

MINUTES_PER_DAY = 1440
_MAX_GAP_MINUTES = 24 * 60


@lru_cache(maxsize=65536)
def midnight_epoch(day: date, tz: ZoneInfo) -> int:
    """The instant (epoch seconds) of local midnight starting ``day``."""
    return _naive_to_epoch(datetime(day.year, day.month, day.day), tz)


@lru_cache(maxsize=65536)
def _day_is_regular(day: date, tz: ZoneInfo) -> bool:
    """True when the day has 24 hours of wall clock with no offset change."""
    start = midnight_epoch(day, tz)
    end = midnight_epoch(day + timedelta(days=1), tz)
    return end - start == 86400 and _offset(start, tz) == _offset(end - 1, tz)


def _offset(epoch: int, tz: ZoneInfo) -> timedelta | None:
    """The UTC offset in force at an instant."""
    return datetime.fromtimestamp(epoch, tz).utcoffset()


def _exists(naive: datetime, tz: ZoneInfo) -> bool:
    """Whether a naive local time occurs at all in ``tz``."""
    aware = naive.replace(tzinfo=tz)
    return aware.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == naive


def _naive_to_epoch(naive: datetime, tz: ZoneInfo) -> int:
    """First occurrence of a local time; a skipped time maps to the end of the gap."""
    step = 0
    while not _exists(naive, tz) and step < _MAX_GAP_MINUTES:
        naive += timedelta(minutes=1)
        step += 1
    return int(naive.replace(tzinfo=tz, fold=0).timestamp())


def wall_epoch(day: date, minute: int, tz: ZoneInfo) -> int:
    """The instant of ``minute`` minutes after midnight on ``day`` (may run into later days)."""
    if minute >= MINUTES_PER_DAY:
        day += timedelta(days=minute // MINUTES_PER_DAY)
        minute %= MINUTES_PER_DAY
    if _day_is_regular(day, tz):
        return midnight_epoch(day, tz) + minute * 60
    naive = datetime(day.year, day.month, day.day) + timedelta(minutes=minute)
    return _naive_to_epoch(naive, tz)


def wall_datetime(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """Like :func:`wall_epoch`, as an aware datetime in ``tz``."""
    return from_epoch(wall_epoch(day, minute, tz), tz)


def from_epoch(epoch: float, tz: ZoneInfo) -> datetime:
    """An aware datetime in ``tz`` for an epoch instant."""
    return datetime.fromtimestamp(epoch, tz)


def local_date(epoch: float, tz: ZoneInfo) -> date:
    """The local calendar date of an instant."""
    return datetime.fromtimestamp(epoch, tz).date()
