"""The reports (SPEC §7): the page ``/reports``, its CSV tables and ``/api/v1/reports``.

Signed-in staff only: the page and the CSV with a session (``login_required``), the API
with a token or a session that has ``read-status`` (no personal data: figures only).
``from`` and ``to`` are local dates, both included; the page defaults to this month.
Bad input is a 400: the page shows its form again as filled in, with what is wrong
(:mod:`.form`; over the size limit of :mod:`phoneservice.domain.reports.limits`, how to
narrow it), the API a JSON problem, the CSV and XLSX the error page.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import format_decimal
from flask_babel import gettext as _

from phoneservice.domain.reports.definitions import FIGURES, GENERAL, values
from phoneservice.domain.reports.limits import COARSER, ReportTooLarge
from phoneservice.domain.reports.periods import GROUPINGS, MAX_PERIODS, ReportError
from phoneservice.domain.reports.report import Report, ReportRequest, Section
from phoneservice.present import spreadsheets
from phoneservice.present.reports import TABLES, report_shape
from phoneservice.web import store
from phoneservice.web.auth import api_auth, login_required, principal
from phoneservice.web.board.api import bad, known, optional_day, service
from phoneservice.web.errors import BadParameter
from phoneservice.web.reports import charts as report_charts
from phoneservice.web.reports import downloads
from phoneservice.web.reports import form as report_form

blueprint = Blueprint("reports", __name__)

NO_STORE = {"Cache-Control": "no-store"}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SCOPE = "read-status"  # figures without personal data: every signed-in role has it
Page = tuple[str, int, dict[str, str]]
EMPTY = "empty"  # the page's query argument: 1 shows the units without calls too
# The definitions folded under each table of the page, in the order they are shown.
FOLDED = {
    "promises": (
        "period",
        "calls",
        "calls_during_hours",
        "answer_rate",
        "short_abandon",
        "service_level",
        "threshold",
        "callbacks_created",
        "on_time",
        "on_time_rate",
        "late",
        "overdue",
        "pending",
        "empty",
    ),
    "calls": (
        "calls",
        "answered",
        "abandoned",
        "short_abandons",
        "timeouts",
        "closed",
        "unanswered",
        "unknown",
        "wait_avg_s",
        "wait_p90_s",
        "rates",
    ),
    "callbacks": (
        "callbacks_created",
        "on_time",
        "late",
        "overdue",
        "pending",
        "unreachable",
        "cancelled",
        "on_time_rate",
        "ack_median_s",
        "unacknowledgeable",
    ),
    "closed_hours": ("closed_by_hour_of_week",),
}


@blueprint.get("/reports")
@login_required
def reports_page() -> Page:
    """The figures of a range as tables and charts, each table's definitions folded under it.

    The promises lead; units without calls are left out unless ``empty=1`` (or the unit
    was asked for by name). Bad input is shown on the form itself, the fields as the user
    left them (400).
    """
    hours = service()
    form = report_form.read(request.args, hours.today(), hours.registry.units)
    if form.errors:
        return _form_page(form), 400, NO_STORE
    try:
        report = store.reports().report(form.asked, principal().units)
    except ReportTooLarge as exc:
        return _form_page(form, too_large=exc), 400, NO_STORE
    except ReportError as exc:
        form.refuse(exc)
        return _form_page(form), 400, NO_STORE
    shown = _shown(report, _show_empty())
    bars, bars_height = report_charts.share_bars(shown)
    focus = report.whole.units[0] if form.asked.unit else report.whole.total
    cells, busiest = report_charts.hour_grid(focus)
    columns, columns_width = report_charts.period_columns(report.periods)
    page = render_template(
        "reports.html",
        report=report,
        asked=_query(form.asked),
        form=form,
        units=_units(),
        groupings=GROUPINGS,
        tables=TABLES,
        rows=(*shown.units, shown.total),
        hidden=len(report.whole.units) - len(shown.units),
        show_empty=_show_empty(),
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
    """One table of the report as a CSV download that Danish Excel opens as it is."""
    name, sheet = _download("csv")
    return spreadsheets.excel_csv(sheet), 200, _attachment(name, "text/csv; charset=utf-8")


@blueprint.get("/reports.xlsx")
@login_required
def reports_xlsx() -> tuple[bytes, int, dict[str, str]]:
    """One table of the report as an Excel workbook."""
    name, sheet = _download("xlsx")
    return spreadsheets.xlsx(sheet), 200, _attachment(name, XLSX)


def _download(extension: str) -> tuple[str, spreadsheets.Sheet]:
    """The file name and the table asked for, its header in the page's language.

    400 for bad input and for a report over the limit (the Danish error page).
    """
    table = request.args.get("table", "")
    if table not in TABLES:
        raise bad("table", table, f"must be one of {', '.join(TABLES)}")
    asked = _asked()
    try:
        report = _reported(asked)
    except ReportTooLarge as exc:
        raise BadParameter(too_large_text(exc)) from exc
    name = f"rapport-{table}-{asked.first}-{asked.last}.{extension}"
    return name, downloads.sheet(report, table)


def _attachment(name: str, content_type: str) -> dict[str, str]:
    """The headers of a download named ``name``."""
    return {
        "Content-Type": content_type,
        "Content-Disposition": f'attachment; filename="{name}"',
        **NO_STORE,
    }


@blueprint.get("/api/v1/reports")
@api_auth(SCOPE)
def reports_api() -> tuple[Response, int, dict[str, str]]:
    """The report as ``phoneservice report --json`` gives it."""
    try:
        report = _reported(_asked())
    except ReportTooLarge as exc:
        return jsonify(too_large_problem(exc)), 400, NO_STORE
    return jsonify(report_shape(report)), 200, NO_STORE


def _reported(asked: ReportRequest) -> Report:
    """The report asked for, as the principal may see it (cached when heavy).

    ReportTooLarge over the size limit; BadParameter (400) for another bad range;
    UnknownUnitError (404).
    """
    try:
        return store.reports().report(asked, principal().units)
    except ReportTooLarge:
        raise
    except ReportError as exc:
        raise BadParameter(str(exc)) from exc


def too_large_problem(exc: ReportTooLarge) -> dict[str, Any]:
    """The JSON problem of a report over the limit: the error, its size, how to narrow it."""
    return {
        "error": "report_too_large",
        "detail": str(exc),
        "rows": exc.size.rows,
        "periods": exc.size.buckets,
        "units": exc.size.units,
        "limit": exc.limit,
        "max_periods": MAX_PERIODS,
        "advice": [_advice_query(way, exc.by) for way in exc.advice],
    }


def _advice_query(way: str, by: str | None) -> str:
    """One way to narrow a report, as a machine reads it."""
    if way == "coarser":
        return f"by={COARSER.get(by or '')}"
    return {"shorter_range": "shorter from-to", "no_split": "no by", "one_unit": "unit=ID"}[way]


def _form_page(form: report_form.ReportForm, too_large: ReportTooLarge | None = None) -> str:
    """The page with its form as the user left it and what is wrong, without figures."""
    return render_template(
        "reports.html",
        report=None,
        form=form,
        units=_units(),
        groupings=GROUPINGS,
        show_empty=_show_empty(),
        too_large=too_large,
        max_periods=MAX_PERIODS,
        advice_text=advice_text,
    )


def _show_empty() -> bool:
    """Whether the page shows units without calls too (``empty=1``)."""
    return request.args.get(EMPTY) == "1"


def _shown(report: Report, show_empty: bool) -> Section:
    """The whole range with the units the page shows: without the units that had neither
    calls nor callbacks, unless asked for (or the report is of one unit)."""
    whole = report.whole
    if show_empty or report.request.unit:
        return whole
    units = tuple(row for row in whole.units if row.calls.calls or row.callbacks.created)
    return replace(whole, units=units)


def _units() -> list[tuple[str, str]]:
    """The choices of the unit field: id and name of every unit."""
    return [(u.id, u.name) for u in service().registry.units.values()]


def advice_text(way: str, by: str | None) -> str:
    """One way to narrow a report, in the page's language."""
    coarser = {"week": _("pr. uge"), "month": _("pr. måned"), "year": _("pr. år")}
    texts = {
        "shorter_range": _("vælg en kortere periode"),
        "coarser": _("opdel %(by)s i stedet", by=coarser.get(COARSER.get(by or "", ""), "")),
        "no_split": _("vis uden opdeling"),
        "one_unit": _("vælg én enhed"),
    }
    return str(texts[way])


def too_large_text(exc: ReportTooLarge) -> str:
    """The whole message in the page's language (the CSV's error page)."""
    size = exc.size
    head = _(
        "Rapporten er for stor: %(periods)s perioder × %(units)s enheder = %(rows)s rækker. "
        "Grænsen er %(limit)s rækker og %(max_periods)s perioder.",
        periods=size.buckets,
        units=size.units,
        rows=size.rows,
        limit=exc.limit,
        max_periods=MAX_PERIODS,
    )
    narrow = _("Gør den mindre:")
    ways = ", ".join(advice_text(way, exc.by) for way in exc.advice)
    return f"{head} {narrow} {ways}."


def _asked() -> ReportRequest:
    """``unit``, ``from``, ``to`` and ``by`` of the query (empty means not given; the dates
    are required)."""
    args = {key: value for key, value in request.args.items() if value != ""}
    unit, by = args.get("unit"), args.get("by")
    if unit is not None:
        known(unit)
    if by is not None and by not in GROUPINGS:
        raise bad("by", by, f"must be one of {', '.join(GROUPINGS)}")
    return ReportRequest(_day("from", args), _day("to", args), unit, by)


def _day(name: str, args: dict[str, str]) -> date:
    """A required date parameter."""
    found = optional_day(name) if name in args else None
    if found is None:
        raise BadParameter(f"{name}: required (a date, e.g. 2026-01-31)")
    return found


def _query(asked: ReportRequest) -> dict[str, str]:
    """The report's parameters as query arguments, for the links to its CSV tables."""
    found = {
        "unit": asked.unit or "",
        "from": asked.first.isoformat(),
        "to": asked.last.isoformat(),
        "by": asked.by or "",
    }
    return {key: value for key, value in found.items() if value}


def _definitions(report: Report) -> dict[str, list[tuple[str, str, dict[str, Any]]]]:
    """Per table (``promises``, ``calls``, ``callbacks``): ``(key, message id, values)`` of
    the definitions folded under it, for the template to translate."""
    filled = values(report)
    texts = {**GENERAL, **FIGURES}
    return {table: [(key, texts[key], filled) for key in keys] for table, keys in FOLDED.items()}


@blueprint.app_template_filter("report_label")
def report_label(name: str) -> str:
    """A row's name: the total and the calls without unit in the page's language."""
    return downloads.row_name(name)


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
