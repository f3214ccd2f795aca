"""How big a report may be: the one rule every door (page, API, CSV) asks (docs/reports.md).

A report's *size* is the number of rows of figures it computes: ``buckets × units``.
``buckets`` is the number of periods the range is split into (1 when it is not split);
``units`` is 1 when one unit is asked for, otherwise the number of units the viewer's
report covers (every unit of the registry). The total rows come free. A report larger
than :data:`MAX_REPORT_ROWS` rows, or split into more than :data:`MAX_PERIODS` periods,
is refused with advice: a shorter range, a coarser split (week, month, year), one unit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from phoneservice.domain.reports.periods import GROUPINGS, MAX_PERIODS, ReportError

MAX_REPORT_ROWS = 2_000  # e.g. 66 days by day, or a year by week, for 30 units
COARSER = {"day": "week", "week": "month", "month": "year"}  # the next split to advise


@dataclass(frozen=True, slots=True)
class ReportSize:
    """How many periods and unit rows a report computes."""

    buckets: int
    units: int

    @property
    def rows(self) -> int:
        """The rows of figures: every period times every unit."""
        return self.buckets * self.units


class ReportTooLarge(ReportError):
    """A report over the limit; ``advice`` says how to narrow it."""

    def __init__(self, size: ReportSize, by: str | None, one_unit: bool) -> None:
        self.size, self.by, self.limit = size, by, MAX_REPORT_ROWS
        self.advice = advice(by, one_unit)
        super().__init__(_message(size, by, self.advice))


_ADVICE_TEXT = {
    "shorter_range": "a shorter range",
    "coarser": "split by {by} instead",
    "no_split": "no split",
    "one_unit": "one unit",
}


def _message(size: ReportSize, by: str | None, found: tuple[str, ...]) -> str:
    """The English explanation (API ``detail``, command line, log)."""
    ways = ", ".join(_ADVICE_TEXT[a].format(by=COARSER.get(by or "")) for a in found)
    return (
        f"the report is too large: {size.buckets} period(s) × {size.units} unit(s) = "
        f"{size.rows} rows, at most {MAX_REPORT_ROWS} rows and {MAX_PERIODS} periods; "
        f"narrow it: {ways}"
    )


def advice(by: str | None, one_unit: bool) -> tuple[str, ...]:
    """How to narrow a report: always a shorter range, a coarser split, one unit."""
    found = ["shorter_range"]
    if by in COARSER:
        found.append("coarser")
    elif by is not None:
        found.append("no_split")
    if not one_unit:
        found.append("one_unit")
    return tuple(found)


def bucket_count(first: date, last: date, by: str | None) -> int:
    """How many periods ``first`` to ``last`` (inclusive) splits into ``by`` (1: no split)."""
    if by is None or last < first:
        return 1
    if by == "day":
        return (last - first).days + 1
    if by == "week":  # ISO weeks: Monday to Sunday
        monday = first - timedelta(days=first.weekday())
        return (last - monday).days // 7 + 1
    if by == "month":
        return (last.year - first.year) * 12 + last.month - first.month + 1
    if by == "year":
        return last.year - first.year + 1
    raise ReportError(f"cannot group by {by!r}: use one of {', '.join(GROUPINGS)}")


def check_size(first: date, last: date, by: str | None, units: int, one_unit: bool) -> ReportSize:
    """The size of a report, or :class:`ReportTooLarge` when it is over the limit."""
    size = ReportSize(bucket_count(first, last, by), 1 if one_unit else max(units, 1))
    if size.rows > MAX_REPORT_ROWS or size.buckets > MAX_PERIODS:
        raise ReportTooLarge(size, by, one_unit)
    return size
