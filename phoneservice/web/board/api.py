"""The public JSON API under ``/api/v1``: hours, status, deadlines and exports of units."""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import TypeVar

from flask import Blueprint, Response, current_app, jsonify, request

from phoneservice.domain.localtime import parse_day, parse_instant
from phoneservice.domain.units import Unit
from phoneservice.present import exports
from phoneservice.present.shapes import day_shape, deadline_shape, status_shape, unit_shape
from phoneservice.registry import UnknownUnitError
from phoneservice.services.hours import HoursService
from phoneservice.web import EXTENSION
from phoneservice.web.auth import request_allows
from phoneservice.web.errors import BadParameter
from phoneservice.web.openapi import document as openapi

blueprint = Blueprint("api", __name__, url_prefix="/api/v1")

UNIT_ID = re.compile(r"[a-z0-9-]+")
DAYS = re.compile(r"[0-9]{1,4}")
MAX_DAYS, DEFAULT_DAYS = 366, 7
# The domain's date arithmetic overflows near year 1 and 9999; no caller needs more.
FIRST_YEAR, LAST_YEAR = 1900, 2199
NO_STORE = {"Cache-Control": "no-store"}
_Day = TypeVar("_Day", bound=date)
# An unencoded "+01:00" in a query string arrives as " 01:00"; the space was a plus.
LOST_PLUS = re.compile(r"(\d:\d\d(?::\d\d(?:\.\d+)?)?) (\d\d(?::?\d\d)?)$")


def service() -> HoursService:
    """The hours service of the running app."""
    found: HoursService = current_app.extensions[EXTENSION]
    return found


def local_time(moment: datetime | None) -> str:
    """``23.11.2026 14:30`` in the registry's zone ("–" for none)."""
    if moment is None:
        return "–"
    return f"{moment.astimezone(service().registry.timezone):%d.%m.%Y %H:%M}"


@blueprint.get("/openapi.json")
def openapi_document() -> Response:
    """The OpenAPI 3.1 description of this API."""
    return jsonify(openapi.document())


@blueprint.get("/status")
def all_status() -> tuple[Response, int, dict[str, str]]:
    """Every unit open or closed, now or at ``?at=``."""
    found = service().status((), optional_instant("at"))
    return jsonify([status_shape(entry) for entry in found]), 200, NO_STORE


@blueprint.get("/units")
def units() -> tuple[Response, int, dict[str, str]]:
    """The directory of units, in registry order (transfer numbers as the reader may see)."""
    staff = reader_is_staff()
    return jsonify([unit_shape(unit.seen_by(staff)) for unit in service().units()]), 200, NO_STORE


@blueprint.get("/units/<unit_id>")
def unit(unit_id: str) -> tuple[Response, int, dict[str, str]]:
    """One unit's directory entry with its status now."""
    found = known(unit_id).seen_by(reader_is_staff())
    (entry,) = service().status((found.id,))
    return jsonify({**unit_shape(found), "status": status_shape(entry)}), 200, NO_STORE


def reader_is_staff() -> bool:
    """Whether staff ask: a signed-in person, or a token that may read status.

    Staff see every transfer number; everyone else only those marked ``transfer_public``.
    """
    return request_allows("read-status")


@blueprint.get("/units/<unit_id>/status")
def unit_status(unit_id: str) -> tuple[Response, int, dict[str, str]]:
    """One unit open or closed, now or at ``?at=``."""
    found = known(unit_id)
    (entry,) = service().status((found.id,), optional_instant("at"))
    return jsonify(status_shape(entry)), 200, NO_STORE


@blueprint.get("/units/<unit_id>/hours")
def unit_hours(unit_id: str) -> Response:
    """Effective intervals per day for ``?days=`` dates from ``?from=`` (today)."""
    found = known(unit_id)
    first, days = optional_day("from"), day_count("days")
    return jsonify([day_shape(plan) for plan in service().hours(found.id, first, days)])


@blueprint.get("/units/<unit_id>/deadline")
def unit_deadline(unit_id: str) -> Response:
    """The callback deadline for a call missed at ``?at=`` (required)."""
    found = known(unit_id)
    received = optional_instant("at")
    if received is None:
        raise BadParameter("at: required (an ISO 8601 time, e.g. 2026-05-13T14:00)")
    return jsonify(deadline_shape(service().deadline(found.id, received)))


@blueprint.get("/units/<unit_id>/open.txt")
def unit_open(unit_id: str) -> tuple[str, int, dict[str, str]]:
    """``open`` or ``closed`` as plain text, for the dialplan's ``CURL()``."""
    (entry,) = service().status((known(unit_id).id,))
    text = "open" if entry.status.open else "closed"
    return text, 200, {"Content-Type": "text/plain; charset=utf-8", **NO_STORE}


@blueprint.get("/units/<unit_id>/calendar.ics")
def unit_calendar(unit_id: str) -> tuple[str, int, dict[str, str]]:
    """The unit's open periods of the next 12 weeks as iCalendar."""
    return export("ics", unit_id), 200, {"Content-Type": "text/calendar; charset=utf-8"}


@blueprint.get("/units/<unit_id>/jsonld")
def unit_jsonld(unit_id: str) -> tuple[str, int, dict[str, str]]:
    """The unit as a schema.org ``ContactPoint``."""
    return export("jsonld", unit_id), 200, {"Content-Type": "application/ld+json; charset=utf-8"}


def export(kind: str, unit_id: str) -> str:
    """The export ``kind`` of one unit, generated now."""
    hours = service()
    return exports.render(kind, hours.registry, [known(unit_id)], hours.now())


def known(unit_id: str) -> Unit:
    """The unit with this id; ids outside ``[a-z0-9-]+`` are never looked up."""
    if not UNIT_ID.fullmatch(unit_id):
        raise UnknownUnitError(unit_id)
    return service().registry.unit(unit_id)


def optional_instant(name: str) -> datetime | None:
    """Query parameter ``name`` as an aware instant (naive is registry-local), or None."""
    text = request.args.get(name)
    if text is None:
        return None
    try:
        value = parse_instant(LOST_PLUS.sub(r"\1+\2", text), service().registry.timezone)
    except (ValueError, OverflowError) as exc:
        raise bad(name, text, "is not an ISO 8601 time, e.g. 2026-12-24T10:00") from exc
    return in_range(name, text, value)


def optional_day(name: str) -> date | None:
    """Query parameter ``name`` as a date (YYYY-MM-DD), or None."""
    text = request.args.get(name)
    if text is None:
        return None
    try:
        value = parse_day(text)
    except ValueError as exc:
        raise bad(name, text, "is not a date, e.g. 2026-12-24") from exc
    return in_range(name, text, value)


def day_count(name: str) -> int:
    """Query parameter ``name`` as a number of days from 1 to 366 (default 7)."""
    text = request.args.get(name)
    if text is None:
        return DEFAULT_DAYS
    if not DAYS.fullmatch(text) or not 1 <= int(text) <= MAX_DAYS:
        raise bad(name, text, f"must be a whole number from 1 to {MAX_DAYS}")
    return int(text)


def in_range(name: str, text: str, value: _Day) -> _Day:
    """``value`` (a date or datetime) if its year is one the service answers for."""
    if not FIRST_YEAR <= value.year <= LAST_YEAR:
        raise bad(name, text, f"must be in the years {FIRST_YEAR} to {LAST_YEAR}")
    return value


def bad(name: str, text: str, why: str) -> BadParameter:
    """The error for parameter ``name`` given as ``text``."""
    return BadParameter(f"{name}: {text!r} {why}")
