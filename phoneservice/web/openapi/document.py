"""The OpenAPI 3.1 document of ``/api/v1``, written by hand as data."""

from __future__ import annotations

import copy
from typing import Any

_TIME = {"type": "string", "description": "ISO 8601 date-time with its offset"}
_NULL_TIME = {"type": ["string", "null"], "description": "ISO 8601 date-time, or null"}
_TEXT = {"type": "string"}
_NULL_TEXT = {"type": ["string", "null"]}
_TEXTS = {"type": "array", "items": _TEXT}
_INTERVAL = {"type": "string", "pattern": "^[0-2][0-9]:[0-5][0-9]-[0-2][0-9]:[0-5][0-9]$"}

SCHEMAS: dict[str, Any] = {
    "Error": {
        "type": "object",
        "required": ["error", "detail"],
        "properties": {"error": _TEXT, "detail": _TEXT},
    },
    "Override": {
        "type": ["object", "null"],
        "required": ["open", "reason", "until"],
        "properties": {"open": {"type": "boolean"}, "reason": _NULL_TEXT, "until": _NULL_TIME},
    },
    "Status": {
        "type": "object",
        "required": ["id", "name", "kind", "open", "reason", "closes_at", "next_open"],
        "properties": {
            "id": _TEXT,
            "name": _TEXT,
            "kind": {"type": "string", "enum": ["centre", "authority"]},
            "open": {"type": "boolean"},
            "reason": _NULL_TEXT,
            "closes_at": _NULL_TIME,
            "next_open": _NULL_TIME,
            "override": {"$ref": "#/components/schemas/Override"},
        },
    },
    "Unit": {
        "type": "object",
        "required": ["id", "name", "kind", "phone", "tags", "queues", "dids", "calendar"],
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9-]+$"},
            "name": _TEXT,
            "kind": {"type": "string", "enum": ["centre", "authority"]},
            "phone": _TEXT,
            "menu": _NULL_TEXT,
            "email": _NULL_TEXT,
            "url": _NULL_TEXT,
            "notes": _NULL_TEXT,
            "after_hours": _NULL_TEXT,
            "tags": _TEXTS,
            "queues": _TEXTS,
            "dids": _TEXTS,
            "calendar": _TEXT,
            "verified": {"type": ["string", "null"], "description": "date, YYYY-MM-DD"},
            "transfer": {
                "type": ["string", "null"],
                "description": "extension or direct number to transfer to; null unless the "
                "caller is signed in (or has a read-status token) or the unit's "
                "transfer_public is true",
            },
        },
    },
    "UnitWithStatus": {
        "allOf": [
            {"$ref": "#/components/schemas/Unit"},
            {
                "type": "object",
                "required": ["status"],
                "properties": {"status": {"$ref": "#/components/schemas/Status"}},
            },
        ]
    },
    "Day": {
        "type": "object",
        "required": ["date", "intervals", "reason"],
        "properties": {
            "date": {"type": "string", "description": "YYYY-MM-DD"},
            "intervals": {"type": "array", "items": _INTERVAL},
            "reason": _NULL_TEXT,
        },
    },
    "Deadline": {
        "type": "object",
        "required": ["unit", "received_at", "due_at"],
        "properties": {"unit": _TEXT, "received_at": _TIME, "due_at": _TIME},
    },
}

_PARAMETERS: dict[str, Any] = {
    "UnitId": {
        "name": "unit_id",
        "in": "path",
        "required": True,
        "description": "the unit's id from the registry",
        "schema": {"type": "string", "pattern": "^[a-z0-9-]+$"},
    },
    "At": {
        "name": "at",
        "in": "query",
        "required": False,
        "description": "ISO 8601 time (years 1900-2199); without an offset it is "
        "registry-local. Default: now.",
        "schema": {"type": "string"},
    },
    "AtRequired": {
        "name": "at",
        "in": "query",
        "required": True,
        "description": "when the call was missed: ISO 8601, registry-local without an offset",
        "schema": {"type": "string"},
    },
    "From": {
        "name": "from",
        "in": "query",
        "required": False,
        "description": "first date, YYYY-MM-DD (default: today in the registry's time zone)",
        "schema": {"type": "string", "format": "date"},
    },
    "Days": {
        "name": "days",
        "in": "query",
        "required": False,
        "description": "number of dates",
        "schema": {"type": "integer", "minimum": 1, "maximum": 366, "default": 7},
    },
}


def _ref(kind: str, name: str) -> dict[str, str]:
    """A ``$ref`` to a component."""
    return {"$ref": f"#/components/{kind}/{name}"}


def _json(description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON response."""
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _text(description: str, media: str, schema: dict[str, Any] | None = None) -> dict[str, Any]:
    """A non-JSON response."""
    return {"description": description, "content": {media: {"schema": schema or _TEXT}}}


def _list_of(name: str) -> dict[str, Any]:
    """An array of a component schema."""
    return {"type": "array", "items": _ref("schemas", name)}


_ERROR = _ref("schemas", "Error")
_BAD = _json("a parameter is wrong", _ERROR)
_UNKNOWN = _json("no unit has this id", _ERROR)


def _get(summary: str, ok: dict[str, Any], params: list[str], *errors: str) -> dict[str, Any]:
    """One GET operation with its parameters and responses."""
    responses: dict[str, Any] = {"200": ok}
    if "400" in errors:
        responses["400"] = _BAD
    if "404" in errors:
        responses["404"] = _UNKNOWN
    parameters = [_ref("parameters", p) for p in params]
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


PATHS: dict[str, Any] = {
    "/api/v1/openapi.json": _get("this document", _json("OpenAPI 3.1", {"type": "object"}), []),
    "/api/v1/status": _get(
        "every unit open or closed", _json("statuses", _list_of("Status")), ["At"], "400"
    ),
    "/api/v1/units": _get("the directory of units", _json("units", _list_of("Unit")), []),
    "/api/v1/units/{unit_id}": _get(
        "a unit with its status now",
        _json("the unit", _ref("schemas", "UnitWithStatus")),
        ["UnitId"],
        "404",
    ),
    "/api/v1/units/{unit_id}/status": _get(
        "a unit open or closed",
        _json("the status", _ref("schemas", "Status")),
        ["UnitId", "At"],
        "400",
        "404",
    ),
    "/api/v1/units/{unit_id}/hours": _get(
        "effective intervals per date",
        _json("one item per date", _list_of("Day")),
        ["UnitId", "From", "Days"],
        "400",
        "404",
    ),
    "/api/v1/units/{unit_id}/deadline": _get(
        "the callback deadline for a call missed at a time",
        _json("the deadline", _ref("schemas", "Deadline")),
        ["UnitId", "AtRequired"],
        "400",
        "404",
    ),
    "/api/v1/units/{unit_id}/open.txt": _get(
        "open or closed now, for the dialplan's CURL()",
        _text("open or closed", "text/plain", {"type": "string", "enum": ["open", "closed"]}),
        ["UnitId"],
        "404",
    ),
    "/api/v1/units/{unit_id}/calendar.ics": _get(
        "open periods of the next 12 weeks, one VEVENT each",
        _text("iCalendar", "text/calendar"),
        ["UnitId"],
        "404",
    ),
    "/api/v1/units/{unit_id}/jsonld": _get(
        "schema.org ContactPoint with hoursAvailable",
        _text("JSON-LD", "application/ld+json", {"type": "object"}),
        ["UnitId"],
        "404",
    ),
}


def document() -> dict[str, Any]:
    """The whole document, a fresh copy on each call."""
    from phoneservice.web.openapi import evaluation, overrides, reports, staff

    return copy.deepcopy(
        {
            "openapi": "3.1.0",
            "info": {
                "title": "phoneservice",
                "version": "1",
                "description": "Telephone hours of the municipality's units: public, no "
                "personal data. Calls and callback tasks: with a token or a signed-in "
                "session (see securitySchemes). Errors are JSON {error, detail}: 400 for a "
                "bad parameter, 404 for an unknown unit or route, 405 for a wrong method.",
            },
            "paths": {
                **PATHS,
                **staff.PATHS,
                **overrides.PATHS,
                **reports.PATHS,
                **evaluation.PATHS,
            },
            "components": {
                "schemas": {
                    **SCHEMAS,
                    **staff.SCHEMAS,
                    **overrides.SCHEMAS,
                    **reports.SCHEMAS,
                    **evaluation.SCHEMAS,
                },
                "parameters": {
                    **_PARAMETERS,
                    **staff.PARAMETERS,
                    **overrides.PARAMETERS,
                    **reports.PARAMETERS,
                },
                "securitySchemes": staff.SECURITY_SCHEMES,
            },
        }
    )
