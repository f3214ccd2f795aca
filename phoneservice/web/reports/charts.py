"""The geometry of the report page's charts, drawn by the template as inline SVG.

No JavaScript and no style attributes (the page CSP has ``style-src 'self'``): every
shape is placed here in SVG units with presentation attributes (``x``, ``width``,
``fill-opacity``); colours come from classes in ``reports.css``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from phoneservice.domain.reports.report import Section, UnitFigures
from phoneservice.present.reports import week_grid

LABEL_W, BAR_W, ROW_H, BAR_H = 170, 300, 34, 12  # bars per unit: two per row
CELL, GRID_LEFT, GRID_TOP = 18, 34, 18  # the hour-of-week grid
COLUMN_W, COLUMN_GAP, COLUMN_H = 22, 6, 140  # calls per period


@dataclass(frozen=True, slots=True)
class Bar:
    """One horizontal bar: a share from 0 to 1, or None (nothing to divide: no bar)."""

    y: float
    width: float
    value: float | None
    kind: str  # the CSS class: answer-rate, service-level


@dataclass(frozen=True, slots=True)
class BarRow:
    """A unit's label and its two bars."""

    y: float
    name: str
    bars: tuple[Bar, Bar]


@dataclass(frozen=True, slots=True)
class Cell:
    """One hour of the week in the grid: its count and how dark it is drawn."""

    x: float
    y: float
    count: int
    opacity: float
    weekday: int
    hour: int


@dataclass(frozen=True, slots=True)
class Column:
    """One period's column: all calls, and the answered part of them."""

    x: float
    calls: int
    answered: int
    height: float
    answered_height: float
    label: str


def share_bars(section: Section) -> tuple[list[BarRow], float]:
    """Answer rate and service level per unit and in total; the chart's height."""
    rows = [*section.units, section.total]
    drawn = [_bar_row(index, row) for index, row in enumerate(rows)]
    return drawn, len(rows) * ROW_H + 8


def _bar_row(index: int, row: UnitFigures) -> BarRow:
    """The two bars of one row."""
    top = index * ROW_H + 4
    rate, level = row.calls.answer_rate, row.calls.service_level
    return BarRow(
        top + BAR_H,
        row.name,
        (
            Bar(top, (rate or 0) * BAR_W, rate, "answer-rate"),
            Bar(top + BAR_H + 2, (level or 0) * BAR_W, level, "service-level"),
        ),
    )


def hour_grid(row: UnitFigures) -> tuple[list[Cell], int]:
    """The 7 × 24 cells of calls outside phone hours, darker for more; the busiest count."""
    grid = week_grid(row.calls.closed_by_hour_of_week)
    most = max((n for day in grid for n in day), default=0)
    cells = [
        Cell(
            GRID_LEFT + hour * CELL,
            GRID_TOP + weekday * CELL,
            count,
            0.0 if not count else 0.15 + 0.85 * count / most,
            weekday,
            hour,
        )
        for weekday, day in enumerate(grid)
        for hour, count in enumerate(day)
    ]
    return cells, most


def period_columns(sections: Sequence[Section]) -> tuple[list[Column], float]:
    """One column per period for the total's calls; the chart's width."""
    most = max((s.total.calls.calls for s in sections), default=0) or 1
    columns = [
        Column(
            index * (COLUMN_W + COLUMN_GAP),
            s.total.calls.calls,
            s.total.calls.answered,
            COLUMN_H * s.total.calls.calls / most,
            COLUMN_H * s.total.calls.answered / most,
            s.period.first.isoformat(),
        )
        for index, s in enumerate(sections)
    ]
    return columns, max(len(sections) * (COLUMN_W + COLUMN_GAP), 1)
