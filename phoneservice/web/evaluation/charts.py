"""The geometry of the evaluation's charts and heatmap, drawn by the template.

The trend is inline SVG (vector on the page and in the PDF, no JavaScript, no style
attributes: the page CSP has ``style-src 'self'``): columns for the calls of each month
on their own scale, and a line with a marker per month for each share (0-100 %), the
two lines told apart by dash and marker shape as well as colour. The staffing heatmap is
a real table (hours down, weekdays across); each cell gets a level class 0-5 by the
agents needed, and carries the number itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from phoneservice.domain.evaluation.model import Month, StaffingHour

WIDTH, HEIGHT = 640, 220  # the trend's view box
LEFT, RIGHT, TOP, BOTTOM = 56, 12, 12, 40  # room for the axes' labels
LEVELS = 5  # the heatmap's darkest level
# The chart's colours as presentation attributes too: WeasyPrint's SVG renderer does not
# apply the page's stylesheet to the shapes (the page's CSS, where it does, agrees).
COLOURS = {
    "calls": "#c9d3de",
    "answer_rate": "#0a4fa3",
    "service_level": "#6a3d9a",
    "axis": "#98a2ad",
    "ink": "#1b1f24",
}


@dataclass(frozen=True, slots=True)
class Column:
    """One month: its calls as a column, and where its label sits."""

    x: float
    y: float
    width: float
    height: float
    label: str
    calls: int
    centre: float


@dataclass(frozen=True, slots=True)
class Point:
    """One month's share on a line (None months are left out of it)."""

    x: float
    y: float
    value: float


@dataclass(frozen=True, slots=True)
class Trend:
    """The trend chart of one unit."""

    columns: tuple[Column, ...]
    answer_rate: tuple[Point, ...]
    service_level: tuple[Point, ...]
    most_calls: int
    label_every: int  # every n-th month is labelled (24 months do not fit)

    @property
    def ticks(self) -> tuple[tuple[float, int], ...]:
        """The share axis: y of 0, 25, 50, 75 and 100 %."""
        return tuple((_y(share / 100), share) for share in (0, 25, 50, 75, 100))

    @staticmethod
    def points(line: Sequence[Point]) -> str:
        """A polyline's ``points`` attribute."""
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in line)


def _y(share: float) -> float:
    """The y of a share from 0 to 1 in the plot."""
    return TOP + (HEIGHT - TOP - BOTTOM) * (1 - share)


def trend(months: Sequence[Month]) -> Trend:
    """The columns and lines of a unit's months."""
    plot_w = WIDTH - LEFT - RIGHT
    step = plot_w / max(len(months), 1)
    most = max((m.calls for m in months), default=0)
    columns, answer, level = [], [], []
    for index, month in enumerate(months):
        left = LEFT + index * step
        height = 0.0 if not most else (HEIGHT - TOP - BOTTOM) * month.calls / most
        centre = left + step / 2
        label = month.first.strftime("%m/%y")
        columns.append(
            Column(
                left + step * 0.15,
                HEIGHT - BOTTOM - height,
                step * 0.7,
                height,
                label,
                month.calls,
                centre,
            )
        )
        if month.answer_rate is not None:
            answer.append(Point(centre, _y(month.answer_rate), month.answer_rate))
        if month.service_level is not None:
            level.append(Point(centre, _y(month.service_level), month.service_level))
    every = max(1, -(-len(months) // 12))
    return Trend(tuple(columns), tuple(answer), tuple(level), most, every)


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One hour of one weekday: the staffing hour (None: no calls then) and its level."""

    hour: StaffingHour | None
    level: int


def heat_rows(staffing: Sequence[StaffingHour]) -> list[tuple[int, list[HeatCell]]]:
    """The heatmap's rows: each hour of the day with calls on some weekday, 7 cells each."""
    by_hour = {h.hour_of_week: h for h in staffing}
    most = max((h.needed_erlang_c or 0 for h in staffing), default=0)
    hours = sorted({h.hour_of_week % 24 for h in staffing})
    return [
        (hour, [_cell(by_hour.get(day * 24 + hour), most) for day in range(7)]) for hour in hours
    ]


def _cell(hour: StaffingHour | None, most: int) -> HeatCell:
    """A cell and its colour level: 0 without agents needed, up to LEVELS at the most."""
    needed = 0 if hour is None else hour.needed_erlang_c or 0
    level = 0 if not needed or not most else max(1, round(LEVELS * needed / most))
    return HeatCell(hour, level)
