"""``phoneservice report``: the figures of SPEC §7 with their definitions.

``--from`` and ``--to`` are local dates, both included (as for ``calls``). Text output
prints the tables and then every definition; ``--json`` is the shape of
``GET /api/v1/reports``; ``--csv TABLE`` prints one table as CSV. The command line has
no size limit and no cache: only the web's reports are bounded (docs/reports.md).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from phoneservice.cli.common import EXIT_OK, Clock, UsageError, common_options, day, emit, services
from phoneservice.domain.localtime import iso
from phoneservice.domain.reports.definitions import FIGURES, GENERAL, values
from phoneservice.domain.reports.periods import GROUPINGS, ReportError
from phoneservice.domain.reports.report import Report, ReportRequest, Section, UnitFigures
from phoneservice.present.reports import TABLES, csv_table, report_shape, week_grid
from phoneservice.settings import Settings

WEEKDAYS = ("man", "tir", "ons", "tor", "fre", "lør", "søn")
DASH = "–"  # a figure whose denominator is 0


def register(commands: Any) -> None:
    """Add ``report`` to the parser."""
    report = commands.add_parser("report", parents=[common_options()])
    report.add_argument("--unit", help="one unit (default: all, and the total)")
    report.add_argument("--from", dest="first", required=True, help="first date (YYYY-MM-DD)")
    report.add_argument("--to", dest="last", required=True, help="last date, inclusive")
    report.add_argument("--by", choices=GROUPINGS, help="also split into days, weeks, ...")
    report.add_argument("--csv", choices=TABLES, metavar="TABLE", help=", ".join(TABLES))
    report.set_defaults(run=cmd_report)


def cmd_report(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Print the report as text, JSON or one CSV table."""
    if args.json and args.csv:
        raise UsageError("--json and --csv cannot be combined")
    request = ReportRequest(day(args.first, "--from"), day(args.last, "--to"), args.unit, args.by)
    found = services(args, settings, clock)
    registry, service = found.registry, found.reports
    try:
        report = service.report(request, limited=False)
    except ReportError as exc:
        raise UsageError(str(exc)) from exc
    if args.csv:
        sys.stdout.write(csv_table(report, args.csv))
        return EXIT_OK
    return emit(args, report_shape(report), list(text_lines(report, registry.name)))


def text_lines(report: Report, name: str) -> Iterator[str]:
    """The report as text: heading, tables, then the definitions."""
    request = report.request
    scope = request.unit or "alle enheder"
    yield f"Rapport for {name}: {request.first} til og med {request.last} ({scope})"
    yield f"Lavet {iso(report.generated_at)}"
    yield from _calls_table(report.whole)
    yield from _callbacks_table(report.whole)
    yield from _hours_table(report.whole.total)
    if report.periods:
        yield from _periods_table(report.periods)
    yield from _definitions(report)


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> Iterator[str]:
    """Columns padded to their widest cell; the first left-aligned, the rest right."""
    lines = [headers, *rows]
    widths = [max(len(line[i]) for line in lines) for i in range(len(headers))]
    for line in lines:
        first, *rest = zip(line, widths, strict=True)
        cells = [first[0].ljust(first[1]), *(cell.rjust(width) for cell, width in rest)]
        yield "  ".join(cells).rstrip()


def _calls_table(section: Section) -> Iterator[str]:
    """Per unit: calls by outcome, answer rate, service level and waits."""
    yield ""
    yield "Opkald"
    headers = [
        "enhed",
        "opkald",
        "besvaret",
        "lagt på",
        "korte",
        "timeout",
        "lukket",
        "andre",
        "svar %",
        "T",
        "serviceniveau",
        "vent gns.",
        "vent 90 %",
    ]
    yield from _table(headers, [_calls_row(row) for row in _rows(section)])


def _calls_row(row: UnitFigures) -> list[str]:
    """One unit's call figures as text."""
    c = row.calls
    others = c.unanswered + c.unknown
    threshold = DASH if row.threshold_s is None else f"{row.threshold_s} s"
    return [
        row.name,
        str(c.calls),
        str(c.answered),
        str(c.abandoned),
        str(c.short_abandons),
        str(c.timeouts),
        str(c.closed),
        str(others),
        percent(c.answer_rate),
        threshold,
        percent(c.service_level),
        seconds(c.wait_avg_s),
        seconds(c.wait_p90_s),
    ]


def _callbacks_table(section: Section) -> Iterator[str]:
    """Per unit: callbacks by status, the on-time rate and the median to acknowledge."""
    yield ""
    yield "Tilbagekald"
    headers = [
        "enhed",
        "oprettet",
        "til tiden",
        "for sent",
        "overskredet",
        "afventer",
        "ikke nået",
        "annulleret",
        "til tiden %",
        "median kvittering",
        "skjult nr.",
    ]
    yield from _table(headers, [_callbacks_row(row) for row in _rows(section)])


def _callbacks_row(row: UnitFigures) -> list[str]:
    """One unit's callback figures as text."""
    b = row.callbacks
    return [
        row.name,
        str(b.created),
        str(b.on_time),
        str(b.late),
        str(b.overdue),
        str(b.pending),
        str(b.unreachable),
        str(b.cancelled),
        percent(b.on_time_rate),
        duration(b.ack_median_s),
        str(row.calls.unacknowledgeable),
    ]


def _hours_table(total: UnitFigures) -> Iterator[str]:
    """Calls outside phone hours of the total, weekday by hour."""
    yield ""
    yield f"Opkald uden for telefontiden ({total.name.lower()}), efter ugedag og time"
    grid = week_grid(total.calls.closed_by_hour_of_week)
    headers = ["", *(f"{hour:02d}" for hour in range(24))]
    rows = [[name, *map(str, hours)] for name, hours in zip(WEEKDAYS, grid, strict=True)]
    yield from _table(headers, rows)


def _periods_table(sections: Sequence[Section]) -> Iterator[str]:
    """Per period: the total's main figures."""
    yield ""
    yield "Perioder (i alt)"
    headers = [
        "periode",
        "opkald",
        "besvaret",
        "svar %",
        "serviceniveau",
        "vent gns.",
        "tilbagekald",
        "til tiden %",
    ]
    rows = [
        [
            f"{s.period.first}–{s.period.last}",
            str(s.total.calls.calls),
            str(s.total.calls.answered),
            percent(s.total.calls.answer_rate),
            percent(s.total.calls.service_level),
            seconds(s.total.calls.wait_avg_s),
            str(s.total.callbacks.created),
            percent(s.total.callbacks.on_time_rate),
        ]
        for s in sections
    ]
    yield from _table(headers, rows)


def _definitions(report: Report) -> Iterator[str]:
    """Every definition, filled with the report's parameters."""
    filled = values(report)
    yield ""
    yield "Definitioner"
    for text in [*GENERAL.values(), *FIGURES.values()]:
        yield f"- {text % filled}"


def _rows(section: Section) -> list[UnitFigures]:
    """The units of a section, then the total."""
    return [*section.units, section.total]


def percent(value: float | None) -> str:
    """A share as Danish per cent with one decimal (``91,7 %``), or a dash."""
    return DASH if value is None else f"{value * 100:.1f} %".replace(".", ",")


def seconds(value: float | None) -> str:
    """Seconds with one decimal (``31,5 s``), or a dash."""
    return DASH if value is None else f"{value:.1f} s".replace(".", ",")


def duration(value: float | None) -> str:
    """A duration as hours and minutes (``5 t 07 m``), or a dash."""
    if value is None:
        return DASH
    minutes = round(value / 60)
    return f"{minutes // 60} t {minutes % 60:02d} m"
