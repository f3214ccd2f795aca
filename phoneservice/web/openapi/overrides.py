"""The OpenAPI description of ``/api/v1/overrides`` (SPEC §4.4), merged by :mod:`openapi`."""

from __future__ import annotations

from typing import Any

from phoneservice.services.overrides import MAX_MINUTES, MAX_REASON
from phoneservice.web.openapi.document import (
    _NULL_TEXT,
    _NULL_TIME,
    _TEXT,
    _TIME,
    _json,
    _list_of,
    _ref,
)

_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]
_OVERRIDE = _ref("schemas", "StoredOverride")
_ERROR = _ref("schemas", "Error")
_UNIT = {"type": "string", "pattern": "^[a-z0-9-]+$", "description": "a unit id"}

SCHEMAS: dict[str, Any] = {
    "StoredOverride": {
        "type": "object",
        "required": ["id", "unit", "start", "end", "open", "reason", "author"],
        "properties": {
            "id": {"type": "integer"},
            "unit": _TEXT,
            "start": _TIME,
            "end": {**_TIME, "description": "the effective end (earlier when ended early)"},
            "open": {"type": "boolean", "description": "true: opened outside hours"},
            "reason": _TEXT,
            "author": _TEXT,
            "ended_at": _NULL_TIME,
            "ended_by": _NULL_TEXT,
        },
    },
    "NewOverride": {
        "type": "object",
        "required": ["unit", "reason"],
        "description": "give exactly one of minutes, until and until_next_change",
        "properties": {
            "unit": _UNIT,
            "open": {"type": "boolean", "default": False, "description": "false: close"},
            "reason": {"type": "string", "minLength": 1, "maxLength": MAX_REASON},
            "minutes": {"type": "integer", "minimum": 1, "maximum": MAX_MINUTES},
            "until": {"type": "string", "description": "ISO 8601; registry-local without offset"},
            "until_next_change": {"type": "boolean", "description": "the next scheduled change"},
        },
    },
}

PARAMETERS: dict[str, Any] = {
    "OverrideId": {
        "name": "override_id",
        "in": "path",
        "required": True,
        "description": "the override's id",
        "schema": {"type": "integer", "minimum": 0},
    },
}


def _operation(summary: str, scope: str, ok: tuple[str, Any], *errors: str) -> dict[str, Any]:
    """One authenticated operation needing ``scope``."""
    meanings = {
        "400": "the body or a field is wrong",
        "401": "no token and no session",
        "403": f"the token or role lacks the {scope!r} scope, or the unit is not the token's",
        "404": "no such unit or override",
        "409": "the override is over already",
    }
    responses = {ok[0]: ok[1]}
    responses.update({code: _json(meanings[code], _ERROR) for code in ("401", "403", *errors)})
    return {"summary": summary, "security": _SECURITY, "parameters": [], "responses": responses}


def _with_id(operation: dict[str, Any]) -> dict[str, Any]:
    """``operation`` on one override, by id."""
    return {**operation, "parameters": [_ref("parameters", "OverrideId")]}


_CREATE = _operation(
    "close (or open) a unit from now", "overrides", ("201", _json("made", _OVERRIDE)), "400", "404"
)
_CREATE["requestBody"] = {
    "required": True,
    "content": {"application/json": {"schema": _ref("schemas", "NewOverride")}},
}

PATHS: dict[str, Any] = {
    "/api/v1/overrides": {
        "get": _operation(
            "overrides not over yet, by start",
            "read-status",
            ("200", _json("overrides", _list_of("StoredOverride"))),
        ),
        "post": _CREATE,
    },
    "/api/v1/overrides/{override_id}": {
        "get": _with_id(
            _operation(
                "one override", "read-status", ("200", _json("the override", _OVERRIDE)), "404"
            )
        ),
        "delete": _with_id(
            _operation(
                "end an override now",
                "overrides",
                ("200", _json("the ended override", _OVERRIDE)),
                "404",
                "409",
            )
        ),
    },
}
