"""The size of a report (docs/reports.md): periods × units, and the advice over the limit."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

import pytest

from phoneservice.domain.reports.limits import (
    MAX_REPORT_ROWS,
    ReportTooLarge,
    bucket_count,
    check_size,
)
from phoneservice.domain.reports.periods import MAX_PERIODS, periods

TZ = ZoneInfo("Europe/Copenhagen")


@pytest.mark.parametrize(
    ("first", "last", "by"),
    [
        ("2026-01-01", "2026-12-31", None),
        ("2026-01-01", "2026-12-31", "day"),
        ("2026-01-01", "2026-12-31", "week"),
        ("2025-12-29", "2026-01-04", "week"),
        ("2026-01-04", "2026-01-05", "week"),
        ("2024-02-29", "2026-03-01", "month"),
        ("2020-06-01", "2026-01-01", "year"),
    ],
)
def test_the_bucket_count_is_the_number_of_periods(first: str, last: str, by: str | None) -> None:
    a, b = date.fromisoformat(first), date.fromisoformat(last)
    assert bucket_count(a, b, by) == len(periods(a, b, by, TZ))


def test_the_size_is_periods_times_units() -> None:
    size = check_size(date(2026, 1, 1), date(2026, 3, 31), "month", 30, False)
    assert (size.buckets, size.units, size.rows) == (3, 30, 90)
    assert check_size(date(2026, 1, 1), date(2026, 3, 31), "day", 30, True).rows == 90


def test_just_under_the_limit_passes_and_one_more_period_does_not() -> None:
    first = date(2026, 1, 1)
    days = MAX_REPORT_ROWS // 30
    last = date.fromordinal(first.toordinal() + days - 1)
    assert check_size(first, last, "day", 30, False).rows <= MAX_REPORT_ROWS
    with pytest.raises(ReportTooLarge) as raised:
        check_size(first, date.fromordinal(last.toordinal() + 1), "day", 30, False)
    assert raised.value.advice == ("shorter_range", "coarser", "one_unit")
    assert "split by week" in str(raised.value)


def test_one_unit_is_bounded_by_the_periods() -> None:
    first = date(2024, 1, 1)
    last = date.fromordinal(first.toordinal() + MAX_PERIODS - 1)
    assert check_size(first, last, "day", 30, True).buckets == MAX_PERIODS
    with pytest.raises(ReportTooLarge) as raised:
        check_size(first, date.fromordinal(last.toordinal() + 1), "day", 30, True)
    assert raised.value.advice == ("shorter_range", "coarser")
