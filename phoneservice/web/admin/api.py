"""``/api/v1/overrides``: manual overrides for integrations and scripts (SPEC §4.4, §9).

Reading needs the ``read-status`` scope; creating and ending need ``overrides``. A token
limited to some units may override only those units.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, abort, jsonify, request, url_for

from phoneservice.domain.localtime import iso, parse_instant
from phoneservice.services.overrides import (
    MAX_MINUTES,
    MAX_REASON,
    OverrideError,
    OverrideNotFound,
    OverrideRecord,
    Until,
)
from phoneservice.web import store
from phoneservice.web.auth import api_auth, principal
from phoneservice.web.board.api import NO_STORE, bad, in_range, known, service
from phoneservice.web.errors import BadParameter, problem

blueprint = Blueprint("api_overrides", __name__, url_prefix="/api/v1")
Answer = tuple[Response, int, dict[str, str]]


def override_shape(record: OverrideRecord) -> dict[str, Any]:
    """An override as JSON: ``end`` is the effective end (early when ended early)."""
    return {
        "id": record.id,
        "unit": record.unit,
        "start": iso(record.start),
        "end": iso(record.effective_end),
        "open": record.open,
        "reason": record.reason,
        "author": record.author,
        "ended_at": iso(record.ended_at),
        "ended_by": record.ended_by,
    }


@blueprint.get("/overrides")
@api_auth("read-status")
def list_overrides() -> Answer:
    """The overrides not over yet, by start."""
    found = [override_shape(record) for record in store.overrides().active()]
    return jsonify(found), 200, NO_STORE


@blueprint.get("/overrides/<int:override_id>")
@api_auth("read-status")
def get_override(override_id: int) -> Answer:
    """One override, over or not."""
    try:
        record = store.overrides().get(override_id)
    except OverrideNotFound as exc:
        return (*problem(404, "not_found", str(exc)), NO_STORE)
    return jsonify(override_shape(record)), 200, NO_STORE


@blueprint.post("/overrides")
@api_auth("overrides")
def create_override() -> Answer:
    """Close (or open) a unit from now: ``minutes``, ``until`` or ``until_next_change``."""
    body = _body()
    unit = known(_text(body, "unit")).id
    _check_unit(unit)
    try:
        record = store.overrides().create(
            unit,
            open=_flag(body, "open"),
            reason=_text(body, "reason"),
            until=_until(body),
            author=principal().actor,
        )
    except OverrideError as exc:
        raise BadParameter(f"{exc.code}: {exc}") from exc
    location = url_for("api_overrides.get_override", override_id=record.id)
    return jsonify(override_shape(record)), 201, {"Location": location, **NO_STORE}


@blueprint.delete("/overrides/<int:override_id>")
@api_auth("overrides")
def end_override(override_id: int) -> Answer:
    """End an override now; 409 when it is over already."""
    overrides = store.overrides()
    try:
        _check_unit(overrides.get(override_id).unit)
        record = overrides.end(override_id, actor=principal().actor)
    except OverrideNotFound as exc:
        return (*problem(404, "not_found", str(exc)), NO_STORE)
    except OverrideError as exc:
        return (*problem(409, "conflict", str(exc)), NO_STORE)
    return jsonify(override_shape(record)), 200, NO_STORE


def _check_unit(unit: str) -> None:
    """403 for a unit outside a unit-limited token's units."""
    units = principal().units
    if units is not None and unit not in units:
        abort(403, description=f"unit {unit!r} is not one of this token's units")


def _body() -> dict[str, Any]:
    """The request's JSON object."""
    body = request.get_json(silent=True)
    if not isinstance(body, dict):
        raise BadParameter("body: send a JSON object (Content-Type: application/json)")
    return body


def _text(body: dict[str, Any], name: str) -> str:
    """A required text field."""
    value = body.get(name)
    if not isinstance(value, str) or not value.strip():
        raise BadParameter(f"{name}: required text")
    if name == "reason" and len(value.strip()) > MAX_REASON:
        raise BadParameter(f"reason: at most {MAX_REASON} characters")
    return value


def _flag(body: dict[str, Any], name: str) -> bool:
    """An optional boolean field (default false)."""
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadParameter(f"{name}: must be true or false")
    return value


def _until(body: dict[str, Any]) -> Until:
    """The end of a new override from exactly one of the three end fields."""
    minutes, until = body.get("minutes"), body.get("until")
    if minutes is not None and (
        isinstance(minutes, bool) or not isinstance(minutes, int) or not 0 < minutes <= MAX_MINUTES
    ):
        raise BadParameter(f"minutes: a whole number from 1 to {MAX_MINUTES}")
    if until is not None and not isinstance(until, str):
        raise BadParameter("until: an ISO 8601 time")
    try:
        return Until(minutes, _instant(until), _flag(body, "until_next_change"))
    except OverrideError as exc:
        raise BadParameter(f"{exc.code}: {exc}") from exc


def _instant(text: str | None) -> datetime | None:
    """``until`` as an aware instant (registry-local without an offset), or None."""
    if text is None:
        return None
    try:
        value = parse_instant(text, service().registry.timezone)
    except (ValueError, OverflowError) as exc:
        raise bad("until", text, "is not an ISO 8601 time, e.g. 2026-11-23T14:30") from exc
    return in_range("until", text, value)
