"""The service evaluation (SPEC §13): ``/evaluation``, ``/evaluation.pdf`` and
``/api/v1/evaluation``.

Signed-in staff only, as the reports (:mod:`phoneservice.web.reports.pages`): the page
and the PDF with a session (``login_required``), the API with a token or a session that
has ``read-status`` (figures only, no personal data). ``from`` and ``to`` are local dates,
both included; the page defaults to the last two whole calendar years. The page answers
bad input on its form (400, the fields kept); the PDF with the Danish error page, the API
with a JSON problem. The PDF is the page's own template with the print flag
(:mod:`.document`), always in Danish: it is the document the council gets.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from flask import Blueprint, Response, jsonify, render_template, request
from flask_babel import format_decimal

from phoneservice.domain.evaluation.model import Evaluation
from phoneservice.domain.reports.limits import ReportTooLarge
from phoneservice.domain.reports.periods import ReportError
from phoneservice.present.evaluation import evaluation_shape
from phoneservice.web import store
from phoneservice.web.auth import api_auth, login_required, principal
from phoneservice.web.board.api import known, optional_day, service
from phoneservice.web.errors import BadParameter
from phoneservice.web.evaluation import document
from phoneservice.web.reports import form as report_form
from phoneservice.web.reports.pages import SCOPE, too_large_problem, too_large_text

blueprint = Blueprint("evaluation", __name__)

NO_STORE = {"Cache-Control": "no-store"}
PDF = "application/pdf"


@blueprint.get("/evaluation")
@login_required
def evaluation_page() -> tuple[str, int, dict[str, str]]:
    """Per unit and in total: goals, trend, demand outside hours, callbacks, staffing."""
    hours = service()
    form = report_form.read(_with_defaults(request.args, hours.today()), hours.today(), _ids())
    if form.errors:
        return _page(form, None), 400, NO_STORE
    asked = form.asked
    try:
        found = store.evaluations().evaluation(
            asked.first, asked.last, asked.unit, principal().units
        )
    except ReportTooLarge as exc:
        form.errors["to"] = too_large_text(exc)
        return _page(form, None), 400, NO_STORE
    except ReportError as exc:
        form.refuse(exc)
        return _page(form, None), 400, NO_STORE
    return _page(form, found), 200, NO_STORE


@blueprint.get("/evaluation.pdf")
@login_required
def evaluation_pdf() -> tuple[bytes, int, dict[str, str]]:
    """The evaluation as a printable A4 document in Danish."""
    first, last, unit = _asked()
    found = _evaluated(first, last, unit)
    body = document.evaluation_pdf(store.services(), found, unit)
    name = f"evaluering-{first}-{last}{'-' + unit if unit else ''}.pdf"
    headers = {"Content-Type": PDF, "Content-Disposition": f'inline; filename="{name}"'}
    return body, 200, {**headers, **NO_STORE}


@blueprint.get("/api/v1/evaluation")
@api_auth(SCOPE)
def evaluation_api() -> tuple[Response, int, dict[str, str]]:
    """The evaluation as ``phoneservice evaluation --json`` gives it."""
    first, last, unit = _asked()
    try:
        found = _evaluated(first, last, unit)
    except ReportTooLarge as exc:
        return jsonify(too_large_problem(exc)), 400, NO_STORE
    shape = evaluation_shape(found, store.reports().parameters(), unit)
    return jsonify(shape), 200, NO_STORE


def _evaluated(first: date, last: date, unit: str | None) -> Evaluation:
    """The evaluation as the principal may see it; a bad range is a 400 (BadParameter)."""
    try:
        return store.evaluations().evaluation(first, last, unit, principal().units)
    except ReportTooLarge as exc:
        if request.path.startswith("/api/"):
            raise
        raise BadParameter(too_large_text(exc)) from exc
    except ReportError as exc:
        raise BadParameter(str(exc)) from exc


def _page(form: report_form.ReportForm, found: Evaluation | None) -> str:
    """The page: the form, and the evaluation when there is one."""
    query = {k: v for k, v in form.values.items() if v and k in ("unit", "from", "to")}
    return render_template(
        "evaluation.html",
        **document.context(found, store.reports().parameters() if found else None),
        form=form,
        units=[(u.id, u.name) for u in service().registry.units.values()],
        query=query,
    )


def default_period(today: date) -> tuple[date, date]:
    """The last two whole calendar years before ``today``'s year."""
    return date(today.year - 2, 1, 1), date(today.year - 1, 12, 31)


def _with_defaults(args: Mapping[str, str], today: date) -> dict[str, str]:
    """The query with the default period where a date is left empty."""
    first, last = default_period(today)
    found: dict[str, Any] = {key: args.get(key, "") for key in ("unit", "from", "to")}
    found["from"] = found["from"].strip() or first.isoformat()
    found["to"] = found["to"].strip() or last.isoformat()
    return found


def _ids() -> list[str]:
    """Every unit id of the registry."""
    return list(service().registry.units)


def _asked() -> tuple[date, date, str | None]:
    """``from``, ``to`` (required dates) and ``unit`` (optional) of the query, strictly."""
    args = {key: value for key, value in request.args.items() if value != ""}
    unit = args.get("unit")
    if unit is not None:
        known(unit)
    days = []
    for name in ("from", "to"):
        found = optional_day(name) if name in args else None
        if found is None:
            raise BadParameter(f"{name}: required (a date, e.g. 2026-01-31)")
        days.append(found)
    return days[0], days[1], unit


@blueprint.app_template_filter("tenths")
def tenths_filter(value: float) -> str:
    """A mean count with one decimal in the page's language (``2,5``)."""
    return str(format_decimal(value, format="0.0"))
