"""The reports (SPEC §7): the page ``/reports``, its CSV tables and ``/api/v1/reports``.

Signed-in staff only: the page and the CSV with a session (``login_required``), the API
with a token or a session that has ``read-status`` (no personal data: figures only).
``from`` and ``to`` are local dates, both included; the page defaults to this month.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import format_decimal, gettext
from flask_babel import gettext as _

from phoneservice.domain.reports.definitions import FIGURES, GENERAL, values
from phoneservice.domain.reports.periods import GROUPINGS, ReportError
from phoneservice.domain.reports.report import NO_UNIT, TOTAL, Report, ReportRequest
from phoneservice.present.reports import TABLES, csv_table, report_shape
from phoneservice.web import store
from phoneservice.web.auth import api_auth, login_required
from phoneservice.web.board.api import bad, known, optional_day, service
from phoneservice.web.errors import BadParameter
from phoneservice.web.reports import charts as report_charts

blueprint = Blueprint("reports", __name__)

NO_STORE = {"Cache-Control": "no-store"}
SCOPE = "read-status"  # figures without personal data: every signed-in role has it
Page = tuple[str, int, dict[str, str]]


@blueprint.get("/reports")
@login_required
def reports_page() -> Page:
    """The figures of a range as tables and charts, with their definitions beside them."""
    request_, report = _report(required=False)
    bars, bars_height = report_charts.share_bars(report.whole)
    focus = report.whole.units[0] if request_.unit else report.whole.total
    cells, busiest = report_charts.hour_grid(focus)
    columns, columns_width = report_charts.period_columns(report.periods)
    page = render_template(
        "reports.html",
        report=report,
        asked=_query(request_),
        units=[(u.id, u.name) for u in service().registry.units.values()],
        groupings=GROUPINGS,
        tables=TABLES,
        definitions=_definitions(report),
        bars=bars,
        bars_height=bars_height,
        focus=focus,
        cells=cells,
        busiest=busiest,
        columns=columns,
        columns_width=columns_width,
        charts=report_charts,
    )
    return page, 200, NO_STORE


@blueprint.get("/reports.csv")
@login_required
def reports_csv() -> tuple[str, int, dict[str, str]]:
    """One table of the report as a CSV download."""
    table = request.args.get("table", "")
    if table not in TABLES:
        raise bad("table", table, f"must be one of {', '.join(TABLES)}")
    request_, report = _report(required=True)
    name = f"rapport-{table}-{request_.first}-{request_.last}.csv"
    headers = {
        "Content-Type": "text/csv; charset=utf-8",
        "Content-Disposition": f'attachment; filename="{name}"',
        **NO_STORE,
    }
    return csv_table(report, table), 200, headers


@blueprint.get("/api/v1/reports")
@api_auth(SCOPE)
def reports_api() -> tuple[Response, int, dict[str, str]]:
    """The report as ``phoneservice report --json`` gives it."""
    _request, report = _report(required=True)
    return jsonify(report_shape(report)), 200, NO_STORE


def _report(required: bool) -> tuple[ReportRequest, Report]:
    """The report the query asks for; BadParameter (400) or UnknownUnitError (404)."""
    asked = _asked(required)
    reports = store.reports()
    try:
        return asked, reports.report(asked)
    except ReportError as exc:
        raise BadParameter(str(exc)) from exc


def _asked(required: bool) -> ReportRequest:
    """``unit``, ``from``, ``to`` and ``by`` of the query (empty means not given)."""
    args = {key: value for key, value in request.args.items() if value != ""}
    unit, by = args.get("unit"), args.get("by")
    if unit is not None:
        known(unit)
    if by is not None and by not in GROUPINGS:
        raise bad("by", by, f"must be one of {', '.join(GROUPINGS)}")
    first, last = _day("from", args, required), _day("to", args, required)
    today = service().today()
    return ReportRequest(first or today.replace(day=1), last or today, unit, by)


def _day(name: str, args: dict[str, str], required: bool) -> date | None:
    """A date parameter; required ones must be there."""
    if name not in args:
        if required:
            raise BadParameter(f"{name}: required (a date, e.g. 2026-01-31)")
        return None
    return optional_day(name)


def _query(asked: ReportRequest) -> dict[str, str]:
    """The report's parameters as query arguments, for the links to its CSV tables."""
    found = {
        "unit": asked.unit or "",
        "from": asked.first.isoformat(),
        "to": asked.last.isoformat(),
        "by": asked.by or "",
    }
    return {key: value for key, value in found.items() if value}


def _definitions(report: Report) -> list[tuple[str, str, dict[str, Any]]]:
    """``(key, message id, values)`` of every definition, for the template to translate."""
    filled = values(report)
    texts = [*GENERAL.items(), *FIGURES.items()]
    return [(key, text, filled) for key, text in texts]


@blueprint.app_template_filter("report_label")
def report_label(name: str) -> str:
    """A row's name: the total and the calls without unit in the page's language."""
    labels = {TOTAL: gettext("I alt"), NO_UNIT: gettext("Uden enhed")}
    return str(labels.get(name, name))


@blueprint.app_template_filter("share")
def share_filter(value: float | None) -> str:
    """A share as a per cent with one decimal in the page's language; a dash for None."""
    if value is None:
        return "–"
    return f"{format_decimal(value * 100, format='0.0')} %"


@blueprint.app_template_filter("secs")
def seconds_filter(value: float | None) -> str:
    """Seconds with one decimal; a dash for None."""
    return "–" if value is None else f"{format_decimal(value, format='0.0')} s"


@blueprint.app_template_filter("span")
def duration_filter(value: float | None) -> str:
    """A duration in hours and minutes; a dash for None."""
    if value is None:
        return "–"
    minutes = round(value / 60)
    return str(_("%(hours)s t %(minutes)02d m", hours=minutes // 60, minutes=minutes % 60))
