"""Parsers for the small text formats of the registry: times, intervals, days, dates.

Each parser raises ``ValueError`` with a message meant for the person editing the file.
"""

from __future__ import annotations

import json
import re
from datetime import date

from phoneservice.domain.hours.calendar import MonthDay
from phoneservice.domain.hours.schedule import Interval

DAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_TIME = re.compile(r"(\d{2}):(\d{2})", re.ASCII)
_MONTH_DAY = re.compile(r"(\d{2})-(\d{2})", re.ASCII)
_WEEKS = re.compile(r"\s*(\d{1,2})\s*-\s*(\d{1,2})\s*", re.ASCII)
UNIT_ID = re.compile(r"[a-z0-9-]+", re.ASCII)
# An extension ("4512") or a direct number ("+45 56 57 57 57"): digits and spaces, + first.
_TRANSFER = re.compile(r"\+?[0-9 ]+", re.ASCII)
TRANSFER_DIGITS = (3, 15)  # a short extension up to the longest E.164 number


def parse_time(text: str, *, allow_24: bool = False) -> int:
    """``"HH:MM"`` → minutes after midnight; ``24:00`` only where an end is meant."""
    match = _TIME.fullmatch(text)
    if not match:
        raise ValueError("is not a time: use HH:MM with two digits each, for example 09:30")
    hours, minutes = int(match.group(1)), int(match.group(2))
    if allow_24 and (hours, minutes) == (24, 0):
        return 1440
    if hours > 23 or minutes > 59:
        limit = "00:00 to 23:59, or 24:00 as an end" if allow_24 else "00:00 to 23:59"
        raise ValueError(f"is not a time of day ({limit})")
    return hours * 60 + minutes


def parse_interval(text: str) -> Interval:
    """``"HH:MM-HH:MM"`` → an interval; an end before the start runs past midnight."""
    start_text, dash, end_text = text.partition("-")
    if not dash:
        raise ValueError("is not an interval: use HH:MM-HH:MM, for example 10:00-14:00")
    if start_text.strip() == "24:00":
        raise ValueError("is not an interval: 24:00 can only end an interval (start at 00:00)")
    parts = []
    for part, allow_24 in ((start_text.strip(), False), (end_text.strip(), True)):
        try:
            parts.append(parse_time(part, allow_24=allow_24))
        except ValueError as exc:
            raise ValueError(f"is not an interval: {json.dumps(part)} {exc}") from exc
    start, end = parts
    if end == start:
        whole = " (for the whole day write 00:00-24:00)" if start == 0 else ""
        raise ValueError(f"is an empty interval: start and end are the same{whole}")
    return Interval(start, end if end > start else end + 1440)


def parse_day_key(key: str) -> tuple[int, ...]:
    """``"mon"``, ``"mon-fri"`` or ``"daily"`` → weekday numbers (Monday is 0)."""
    if key == "daily":
        return tuple(range(7))
    first, dash, last = key.partition("-")
    if first not in DAY_NAMES or (dash and last not in DAY_NAMES):
        raise ValueError(
            "is not a day: use mon, tue, wed, thu, fri, sat, sun, a range such as mon-fri, or daily"
        )
    if not dash:
        return (DAY_NAMES.index(first),)
    low, high = DAY_NAMES.index(first), DAY_NAMES.index(last)
    if high <= low:
        raise ValueError("is not a day range: the first day must come before the last (mon-fri)")
    return tuple(range(low, high + 1))


def parse_month_day(text: str) -> MonthDay:
    """``"MM-DD"`` → (month, day); 02-29 is allowed."""
    match = _MONTH_DAY.fullmatch(text)
    if not match:
        raise ValueError("is not a month and day: use MM-DD, for example 12-24")
    month, day = int(match.group(1)), int(match.group(2))
    if not 1 <= month <= 12:
        raise ValueError("is not a day of the year: the month (MM) must be 01 to 12")
    try:
        date(2000, month, day)
    except ValueError as exc:
        raise ValueError(
            f"is not a day of the year: month {month:02d} has no day {day:02d}"
        ) from exc
    return month, day


def parse_weeks(text: str) -> tuple[int, int]:
    """``"28-31"`` → ISO weeks (inclusive); a range may wrap over New Year (``"52-2"``)."""
    match = _WEEKS.fullmatch(text)
    if not match:
        raise ValueError("is not a range of ISO weeks: use for example 28-31")
    first, last = int(match.group(1)), int(match.group(2))
    if not (1 <= first <= 53 and 1 <= last <= 53):
        raise ValueError("is not a range of ISO weeks: weeks run from 1 to 53")
    return first, last


def parse_transfer(text: str) -> str:
    """A transfer number as written, if it is digits and spaces with an optional leading +."""
    low, high = TRANSFER_DIGITS
    if not _TRANSFER.fullmatch(text.strip()):
        raise ValueError(
            "is not an extension or phone number: use digits and spaces, "
            'with + only in front, e.g. "4512" or "+45 56 57 57 57"'
        )
    count = sum(c.isdigit() for c in text)
    if not low <= count <= high:
        raise ValueError(
            f"is not an extension or phone number: it has {count} digits, not {low} to {high}"
        )
    return text.strip()
