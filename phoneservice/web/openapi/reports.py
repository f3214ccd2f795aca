"""The OpenAPI description of ``/api/v1/reports`` (SPEC §7), merged by :mod:`openapi`."""

from __future__ import annotations

from typing import Any

from phoneservice.domain.reports.cells import CALLBACK_STATUSES
from phoneservice.domain.reports.periods import GROUPINGS
from phoneservice.web.openapi.document import _NULL_TEXT, _TEXT, _TIME, _json, _ref

_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]
_ERROR = _ref("schemas", "Error")
_INT = {"type": "integer", "minimum": 0}
_SHARE = {"type": ["number", "null"], "minimum": 0, "maximum": 1, "description": "null: 0 ÷ 0"}
_SECONDS = {"type": ["number", "null"], "minimum": 0, "description": "seconds; null: none"}
_DATE = {"type": "string", "description": "YYYY-MM-DD"}
_HOURS = {
    "type": "array",
    "description": "7 days (Monday first) of 24 local hours",
    "items": {"type": "array", "items": _INT, "minItems": 24, "maxItems": 24},
    "minItems": 7,
    "maxItems": 7,
}
_CALL_COUNTS = [
    "calls",
    "answered",
    "abandoned",
    "short_abandons",
    "timeouts",
    "closed",
    "unanswered",
    "unknown",
    "calls_during_hours",
    "answered_during_hours",
    "short_abandons_during_hours",
    "answered_with_wait",
    "answered_within_threshold",
    "unacknowledgeable",
]


_REPORT: dict[str, Any] = {
    "from": _DATE,
    "to": _DATE,
    "unit": _NULL_TEXT,
    "by": {"type": ["string", "null"], "enum": [*GROUPINGS, None]},
    "generated_at": _TIME,
    "definitions": {"type": "object", "description": "what every figure means"},
    "units": {"type": "array", "items": _ref("schemas", "ReportRow")},
    "total": _ref("schemas", "ReportRow"),
}


def _object(properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema whose every listed property is required."""
    return {"type": "object", "required": list(properties), "properties": properties}


SCHEMAS: dict[str, Any] = {
    "CallFigures": _object(
        {
            **dict.fromkeys(_CALL_COUNTS, _INT),
            "answer_rate": _SHARE,
            "service_level": _SHARE,
            "wait_avg_s": _SECONDS,
            "wait_p90_s": _SECONDS,
            "closed_by_hour_of_week": _HOURS,
        }
    ),
    "CallbackFigures": _object(
        {
            "created": _INT,
            **dict.fromkeys(CALLBACK_STATUSES, _INT),
            "on_time_rate": _SHARE,
            "acknowledged": _INT,
            "ack_median_s": _SECONDS,
        }
    ),
    "ReportRow": _object(
        {
            "unit": {**_NULL_TEXT, "description": "null: calls of no unit, or the total"},
            "name": _TEXT,
            "threshold_s": {"type": ["integer", "null"], "description": "service-level T"},
            "calls": _ref("schemas", "CallFigures"),
            "callbacks": _ref("schemas", "CallbackFigures"),
        }
    ),
    "ReportPeriod": _object(
        {
            "from": _DATE,
            "to": _DATE,
            "units": {"type": "array", "items": _ref("schemas", "ReportRow")},
            "total": _ref("schemas", "ReportRow"),
        }
    ),
    "Report": {
        "type": "object",
        "required": list(_REPORT),
        "properties": {
            **_REPORT,
            "periods": {
                "type": "array",
                "items": _ref("schemas", "ReportPeriod"),
                "description": "only with ?by=",
            },
        },
    },
}

PARAMETERS: dict[str, Any] = {
    "ReportUnit": {
        "name": "unit",
        "in": "query",
        "required": False,
        "description": "one unit (default: every unit, and the total); unknown: 404",
        "schema": {"type": "string"},
    },
    "ReportFrom": {
        "name": "from",
        "in": "query",
        "required": True,
        "description": "first local date, YYYY-MM-DD",
        "schema": {"type": "string", "format": "date"},
    },
    "ReportTo": {
        "name": "to",
        "in": "query",
        "required": True,
        "description": "last local date, included; at most 3660 days after from",
        "schema": {"type": "string", "format": "date"},
    },
    "ReportBy": {
        "name": "by",
        "in": "query",
        "required": False,
        "description": (
            "also split the range (at most 800 periods, and at most 2,000 rows: periods × units)"
        ),
        "schema": {"type": "string", "enum": list(GROUPINGS)},
    },
}

PATHS: dict[str, Any] = {
    "/api/v1/reports": {
        "get": {
            "summary": "the figures of SPEC §7 per unit and in total, with their definitions",
            "security": _SECURITY,
            "parameters": [
                _ref("parameters", name)
                for name in ("ReportUnit", "ReportFrom", "ReportTo", "ReportBy")
            ],
            "responses": {
                "200": _json("the report", _ref("schemas", "Report")),
                "400": _json(
                    "a date is wrong, the range is reversed or too long, or the report is too"
                    " large (error 'report_too_large': periods × units over the limit; the body"
                    " adds rows, periods, units, limit, max_periods and advice)",
                    _ERROR,
                ),
                "401": _json("no token and no session", _ERROR),
                "403": _json("the token or role lacks the 'read-status' scope", _ERROR),
                "404": _json("no such unit", _ERROR),
            },
        }
    },
}
