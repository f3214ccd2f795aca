"""The OpenAPI description of ``/api/v1/evaluation`` (SPEC §13), merged by :mod:`openapi`."""

from __future__ import annotations

from typing import Any

from phoneservice.domain.evaluation.model import GOAL_KEYS
from phoneservice.present.evaluation import WEEKDAY_KEYS
from phoneservice.web.openapi.document import _NULL_TEXT, _TEXT, _TIME, _json, _ref
from phoneservice.web.openapi.reports import (
    _DATE,
    _ERROR,
    _HOURS,
    _INT,
    _SECONDS,
    _SECURITY,
    _SHARE,
    _object,
)

_NUMBER = {"type": ["number", "null"], "description": "null: none"}
_COUNT = {"type": "number", "minimum": 0}
_WEEK_HOUR = {
    "hour_of_week": {"type": "integer", "minimum": 0, "maximum": 167},
    "weekday": {"type": "string", "enum": list(WEEKDAY_KEYS)},
    "hour": {"type": "integer", "minimum": 0, "maximum": 23},
}

SCHEMAS: dict[str, Any] = {
    "EvaluationFigure": _object(
        {
            "value": {**_NUMBER, "description": "a share 0-1, or seconds for the wait goal"},
            "basis": {**_INT, "description": "calls (tasks for callbacks) behind the value"},
            "low": {**_NUMBER, "description": "95 % interval of a share over few calls"},
            "high": _NUMBER,
        }
    ),
    "EvaluationGoal": _object(
        {
            "key": {"type": "string", "enum": list(GOAL_KEYS)},
            "target": {**_NUMBER, "description": "null: no goal set"},
            "this": _ref("schemas", "EvaluationFigure"),
            "previous": _ref("schemas", "EvaluationFigure"),
            "met": {"type": ["boolean", "null"], "description": "null: no target or no figure"},
            "uncertain": {"type": "boolean", "description": "too few calls to say"},
        }
    ),
    "EvaluationMonth": _object(
        {
            "from": _DATE,
            "to": _DATE,
            "calls": _INT,
            "answer_rate": _SHARE,
            "service_level": _SHARE,
            "acknowledged_on_time": _SHARE,
            "wait_p90_s": _SECONDS,
        }
    ),
    "EvaluationDemandHour": _object({**_WEEK_HOUR, "calls": _INT, "per_year": _COUNT}),
    "EvaluationCallbacks": _object(
        {
            "created": _INT,
            "on_time": _INT,
            "late": _INT,
            "unreachable": _INT,
            "open": _INT,
            "ack_median_s": _SECONDS,
        }
    ),
    "EvaluationStaffingHour": _object(
        {
            **_WEEK_HOUR,
            "hours": _INT,
            "arrivals_per_hour": _COUNT,
            "handling_s": _SECONDS,
            "patience_s": _SECONDS,
            "needed_erlang_c": {"type": ["integer", "null"], "minimum": 0},
            "needed_erlang_a": {"type": ["integer", "null"], "minimum": 0},
            "seen": _COUNT,
        }
    ),
    "EvaluationUnit": _object(
        {
            "unit": {**_NULL_TEXT, "description": "null: the total"},
            "name": _TEXT,
            "threshold_s": {"type": ["integer", "null"], "description": "service-level T"},
            "calls": _INT,
            "previous_calls": _INT,
            "goals": {"type": "array", "items": _ref("schemas", "EvaluationGoal")},
            "trend": {"type": "array", "items": _ref("schemas", "EvaluationMonth")},
            "outside_hours": _HOURS,
            "top_hours": {
                "type": "array",
                "maxItems": 3,
                "items": _ref("schemas", "EvaluationDemandHour"),
            },
            "callbacks": _ref("schemas", "EvaluationCallbacks"),
            "staffing": {
                "type": "array",
                "description": "per hour of the week with calls; empty on the total",
                "items": _ref("schemas", "EvaluationStaffingHour"),
            },
        }
    ),
    "Evaluation": _object(
        {
            "municipality": _TEXT,
            "from": _DATE,
            "to": _DATE,
            "unit": _NULL_TEXT,
            "previous_from": _DATE,
            "previous_to": _DATE,
            "generated_at": _TIME,
            "goal_keys": {"type": "array", "items": {"type": "string"}},
            "definitions": {"type": "object", "description": "what every figure means"},
            "units": {"type": "array", "items": _ref("schemas", "EvaluationUnit")},
            "total": _ref("schemas", "EvaluationUnit"),
        }
    ),
}

PATHS: dict[str, Any] = {
    "/api/v1/evaluation": {
        "get": {
            "summary": (
                "the service evaluation (SPEC §13): per unit and in total each goal against"
                " the previous period of the same length, the monthly trend, demand outside"
                " phone hours, callbacks and staffing"
            ),
            "security": _SECURITY,
            "parameters": [
                _ref("parameters", name) for name in ("ReportUnit", "ReportFrom", "ReportTo")
            ],
            "responses": {
                "200": _json("the evaluation", _ref("schemas", "Evaluation")),
                "400": _json(
                    "a date is wrong, the range is reversed or too long, or the evaluation is"
                    " too large (error 'report_too_large', as for /api/v1/reports)",
                    _ERROR,
                ),
                "401": _json("no token and no session", _ERROR),
                "403": _json("the token or role lacks the 'read-status' scope", _ERROR),
                "404": _json("no such unit", _ERROR),
            },
        }
    },
}
