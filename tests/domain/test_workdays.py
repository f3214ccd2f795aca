"""Working days and the callback deadline (SPEC §4.2, §4.3)."""

from __future__ import annotations

from datetime import date

import pytest

from phoneservice.domain.errors import DomainError, NaiveDatetimeError
from phoneservice.domain.hours.calendar import Calendar, Closure, HalfDay, easter_sunday
from phoneservice.domain.hours.workdays import deadline, next_working_day
from tests.conftest import TZ, at, registry_from

AUTHORITIES = """
[[unit]]
id = "national-line"
name = "Styrelse"
kind = "authority"
phone = "1"
hours = { "mon-fri" = ["09:00-15:00"] }

[[unit]]
id = "no-calendar"
name = "Uden kalender"
kind = "authority"
phone = "2"
calendar = "none"
hours = { "mon-fri" = ["09:00-15:00"] }

[[unit]]
id = "centre"
name = "Center"
kind = "centre"
phone = "3"
hours = { "mon-fri" = ["09:00-15:00"] }
"""

# (id, unit, received, due)
DEADLINES = [
    ("spec-ascension", "centre", "2026-05-13T14:00", "2026-05-18T15:00:00+02:00"),
    ("spec-saturday", "centre", "2026-11-28T10:00", "2026-11-30T15:00:00+01:00"),
    ("saturday-night", "centre", "2026-11-28T23:30", "2026-11-30T15:00:00+01:00"),
    ("spec-half-day", "centre", "2026-06-04T10:00", "2026-06-05T12:00:00+02:00"),
    ("spec-christmas", "centre", "2026-12-23T14:00", "2027-01-04T15:00:00+01:00"),
    ("ascension-2025", "centre", "2025-05-28T09:00", "2025-06-02T15:00:00+02:00"),
    (
        "between-christmas-and-new-year-2025",
        "centre",
        "2025-12-30T11:00",
        "2026-01-02T15:00:00+01:00",
    ),
    ("easter-2026", "centre", "2026-04-01T12:00", "2026-04-07T15:00:00+02:00"),
    ("may-day-half-day", "centre", "2026-04-30T12:00", "2026-05-01T12:00:00+02:00"),
    ("late-tuesday", "centre", "2026-05-12T23:59", "2026-05-13T15:00:00+02:00"),
    (
        "utc-evening-is-local-monday",
        "centre",
        "2026-11-22T23:30:00+00:00",
        "2026-11-24T15:00:00+01:00",
    ),
    (
        "call-on-a-working-day-is-due-the-next",
        "centre",
        "2026-11-23T08:00",
        "2026-11-24T15:00:00+01:00",
    ),
    ("store-bededag-2023", "centre", "2023-05-04T10:00", "2023-05-08T15:00:00+02:00"),
    ("no-store-bededag-2024", "centre", "2024-04-25T10:00", "2024-04-26T15:00:00+02:00"),
    (
        "national-christmas-eve-is-a-working-day",
        "national-line",
        "2026-12-23T10:00",
        "2026-12-24T15:00:00+01:00",
    ),
    ("national-no-half-day", "national-line", "2026-06-04T10:00", "2026-06-05T15:00:00+02:00"),
    (
        "none-calendar-ignores-holidays",
        "no-calendar",
        "2026-12-24T10:00",
        "2026-12-25T15:00:00+01:00",
    ),
]


@pytest.fixture(scope="module")
def registry():
    return registry_from(AUTHORITIES)


@pytest.mark.parametrize(
    ("unit", "received", "due"), [c[1:] for c in DEADLINES], ids=[c[0] for c in DEADLINES]
)
def test_deadline(registry, unit, received, due):
    calendar = registry.unit(unit).schedule.calendar
    assert deadline(calendar, at(received), TZ).isoformat() == due


def test_deadline_rejects_naive_time(registry):
    calendar = registry.unit("centre").schedule.calendar
    with pytest.raises(NaiveDatetimeError):
        deadline(calendar, at("2026-11-23T10:00").replace(tzinfo=None), TZ)


# Small stub calendars, as python-holidays tests its working-day arithmetic.
STUB_HOLIDAYS = {date(2030, 1, 1): "Nytår", date(2030, 1, 2): "Stubdag"}


def _stub(**kwargs) -> Calendar:
    return Calendar("municipal", 900, STUB_HOLIDAYS.get, **kwargs)


STUB_CASES = [
    ("holidays-skipped", _stub(), date(2029, 12, 31), date(2030, 1, 3)),
    ("closed-month-day", _stub(closed={(1, 3): "Lukkedag"}), date(2029, 12, 31), date(2030, 1, 4)),
    (
        "closure-range",
        _stub(closures=(Closure(date(2030, 1, 3), date(2030, 1, 8), "Lukket"),)),
        date(2029, 12, 31),
        date(2030, 1, 9),
    ),
    ("weekend-skipped", _stub(), date(2030, 1, 4), date(2030, 1, 7)),
    (
        "half-day-is-a-working-day",
        _stub(closes_early={(1, 3): HalfDay(720, "Halv")}),
        date(2030, 1, 2),
        date(2030, 1, 3),
    ),
]


@pytest.mark.parametrize(
    ("calendar", "after", "expected"), [c[1:] for c in STUB_CASES], ids=[c[0] for c in STUB_CASES]
)
def test_next_working_day_on_stub_calendars(calendar, after, expected):
    assert next_working_day(calendar, after) == expected


def test_half_day_ends_at_its_cut():
    calendar = _stub(closes_early={(1, 3): HalfDay(720, "Halv")})
    assert calendar.workday_end_minute(date(2030, 1, 3)) == 720
    assert calendar.workday_end_minute(date(2030, 1, 4)) == 900


def test_no_working_day_is_an_error_not_a_loop():
    everything = Closure(date(2030, 1, 1), date(2032, 1, 1), "Lukket")
    with pytest.raises(DomainError, match="no working day"):
        next_working_day(_stub(closures=(everything,)), date(2030, 1, 1))


def test_closure_rejects_reversed_dates():
    with pytest.raises(DomainError):
        Closure(date(2030, 1, 2), date(2030, 1, 1), "x")


def test_easter_matches_dateutil_for_four_centuries():
    from dateutil.easter import easter

    assert all(easter_sunday(y) == easter(y) for y in range(1900, 2300))
