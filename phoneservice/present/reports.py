"""The reports of SPEC §7 as machines read them: JSON and CSV tables.

The shapes are shared by ``phoneservice report`` and the web (``/reports``,
``/api/v1/reports``).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import fields
from typing import Any

from phoneservice.domain.localtime import iso
from phoneservice.domain.reports.definitions import definitions
from phoneservice.domain.reports.report import Report, Section, UnitFigures
from phoneservice.domain.reports.weeks import HOURS_PER_WEEK

TABLES = ("calls", "callbacks", "closed_hours", "periods")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_RATE_DIGITS, _SECONDS_DIGITS = 4, 1


def report_shape(report: Report) -> dict[str, Any]:
    """``report --json`` and ``GET /api/v1/reports``: definitions, each unit, the total."""
    request = report.request
    shape: dict[str, Any] = {
        "from": request.first.isoformat(),
        "to": request.last.isoformat(),
        "unit": request.unit,
        "by": request.by,
        "generated_at": iso(report.generated_at),
        "definitions": definitions(report),
        **section_shape(report.whole),
    }
    if request.by:
        shape["periods"] = [
            {"from": s.period.first.isoformat(), "to": s.period.last.isoformat()} | section_shape(s)
            for s in report.periods
        ]
    return shape


def section_shape(section: Section) -> dict[str, Any]:
    """The units of one period and their total."""
    return {
        "units": [row_shape(row) for row in section.units],
        "total": row_shape(section.total),
    }


def row_shape(row: UnitFigures) -> dict[str, Any]:
    """One unit's (or the total's) figures."""
    calls = {key: _rounded(key, value) for key, value in _fields(row.calls).items()}
    calls["closed_by_hour_of_week"] = week_grid(row.calls.closed_by_hour_of_week)
    callbacks = {key: _rounded(key, value) for key, value in _fields(row.callbacks).items()}
    return {
        "unit": row.unit,
        "name": row.name,
        "threshold_s": row.threshold_s,
        "calls": calls,
        "callbacks": callbacks,
    }


def _fields(figures: Any) -> dict[str, Any]:
    """A flat figures dataclass as a dict (``asdict`` without its deep copy: 5× faster)."""
    return {field.name: getattr(figures, field.name) for field in fields(figures)}


def week_grid(hours: Sequence[int]) -> list[list[int]]:
    """168 hourly counts as 7 days of 24, Monday first."""
    return [list(hours[day * 24 : day * 24 + 24]) for day in range(HOURS_PER_WEEK // 24)]


def _rounded(key: str, value: Any) -> Any:
    """Rates to 4 decimals and seconds to 1; counts and None as they are."""
    if not isinstance(value, float):
        return value
    return round(value, _SECONDS_DIGITS if key.endswith("_s") else _RATE_DIGITS)


def csv_table(report: Report, table: str) -> str:
    """One table of the report as CSV (RFC 4180, UTF-8, a header row; empty = null): the
    machines' CSV of ``phoneservice report --csv``; people get :mod:`.spreadsheets`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerows([csv_cell(value) for value in row] for row in table_rows(report, table))
    return out.getvalue()


def table_rows(report: Report, table: str) -> Iterator[list[Any]]:
    """One table of the report: its header of field names, then its rows of values."""
    if table not in TABLES:
        raise ValueError(f"no table {table!r}: use one of {', '.join(TABLES)}")
    return _TABLE_ROWS[table](report)


# A text cell starting with one of these is a formula in Excel and LibreOffice.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """A CSV cell that a spreadsheet shows as text: a leading ``'`` defuses a formula."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _scalars(figures: Any) -> dict[str, Any]:
    """The single-number fields of a figures dataclass, rounded."""
    found = _fields(figures)
    found.pop("closed_by_hour_of_week", None)
    return {key: _rounded(key, value) for key, value in found.items()}


def _rows_of(section: Section) -> list[UnitFigures]:
    """The unit rows of a section, then its total."""
    return [*section.units, section.total]


def _calls_rows(report: Report) -> Iterator[list[Any]]:
    """Table ``calls``: one row per unit and the total, the whole range."""
    rows = _rows_of(report.whole)
    yield ["unit", "name", "threshold_s", *_scalars(rows[0].calls)]
    for row in rows:
        yield [row.unit or "", row.name, row.threshold_s, *_scalars(row.calls).values()]


def _callback_rows(report: Report) -> Iterator[list[Any]]:
    """Table ``callbacks``: one row per unit and the total, the whole range."""
    rows = _rows_of(report.whole)
    yield ["unit", "name", *_scalars(rows[0].callbacks)]
    for row in rows:
        yield [row.unit or "", row.name, *_scalars(row.callbacks).values()]


def _closed_hours_rows(report: Report) -> Iterator[list[Any]]:
    """Table ``closed_hours``: calls outside phone hours, 7 rows of 24 hours per unit."""
    yield ["unit", "name", "weekday", *(f"{hour:02d}" for hour in range(24))]
    for row in _rows_of(report.whole):
        grid = week_grid(row.calls.closed_by_hour_of_week)
        for weekday, hours in zip(WEEKDAYS, grid, strict=True):
            yield [row.unit or "", row.name, weekday, *hours]


def _period_rows(report: Report) -> Iterator[list[Any]]:
    """Table ``periods``: every figure per period (the range when not split) and unit."""
    sections = report.periods or (report.whole,)
    first = sections[0].total
    calls, callbacks = _scalars(first.calls), _scalars(first.callbacks)
    yield [
        "from",
        "to",
        "unit",
        "name",
        "threshold_s",
        *calls,
        *(f"callbacks_{k}" for k in callbacks),
    ]
    for section in sections:
        dates = [section.period.first.isoformat(), section.period.last.isoformat()]
        for row in _rows_of(section):
            figures = [*_scalars(row.calls).values(), *_scalars(row.callbacks).values()]
            yield [*dates, row.unit or "", row.name, row.threshold_s, *figures]


_TABLE_ROWS: dict[str, Callable[[Report], Iterator[list[Any]]]] = {
    "calls": _calls_rows,
    "callbacks": _callback_rows,
    "closed_hours": _closed_hours_rows,
    "periods": _period_rows,
}
