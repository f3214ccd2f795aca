"""The OpenAPI description of the authenticated routes: calls and callback tasks.

Kept apart from the public part (:mod:`phoneservice.web.openapi.document`), which merges it into
the one document; written by hand as data, like the rest.
"""

from __future__ import annotations

from typing import Any

from phoneservice.web.openapi.document import (
    _NULL_TEXT,
    _NULL_TIME,
    _TEXT,
    _TIME,
    _json,
    _list_of,
    _ref,
)

_INT = {"type": "integer"}
_NULL_INT = {"type": ["integer", "null"]}
_BOOL = {"type": "boolean"}
_OUTCOMES = ["reached", "no_answer", "busy", "voicemail", "wrong_number"]
_STATES = ["open", "done", "unreachable", "cancelled"]
_SHORT = {"type": ["string", "null"], "maxLength": 280}

SECURITY_SCHEMES: dict[str, Any] = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "description": "an API token with the 'callbacks' scope (phoneservice admin, tokens)",
    },
    "sessionCookie": {
        "type": "apiKey",
        "in": "cookie",
        "name": "phoneservice_session",
        "description": "a signed-in agent or admin; writes also need the X-CSRFToken header",
    },
}
_SECURITY: list[dict[str, list[str]]] = [{"bearerAuth": []}, {"sessionCookie": []}]


def _object(required: list[str], properties: dict[str, Any]) -> dict[str, Any]:
    """An object schema."""
    return {"type": "object", "required": required, "properties": properties}


SCHEMAS: dict[str, Any] = {
    "Attempt": _object(
        ["at", "by", "outcome", "note", "channel_id", "status"],
        {
            "at": _TIME,
            "by": _TEXT,
            "outcome": {"type": ["string", "null"], "enum": [*_OUTCOMES, None]},
            "note": _NULL_TEXT,
            "channel_id": _NULL_TEXT,
            "status": _NULL_TEXT,
        },
    ),
    "Callback": _object(
        [
            "id",
            "unit",
            "caller_number",
            "state",
            "created_at",
            "due_at",
            "missed_calls",
            "attempts",
            "resolution",
        ],
        {
            "id": _INT,
            "unit": _TEXT,
            "caller_number": {
                "type": ["string", "null"],
                "description": "null when erased, or for a unit the caller does not serve",
            },
            "state": {"type": "string", "enum": _STATES},
            "created_at": _TIME,
            "due_at": _TIME,
            "missed_calls": _INT,
            "attempts": _list_of("Attempt"),
            "resolution": _NULL_TEXT,
            "overdue": _BOOL,
            "on_time": {"type": ["boolean", "null"]},
            "first_call_at": _TIME,
            "short_abandons": _INT,
            "claimed_by": _NULL_TEXT,
            "claimed_at": _NULL_TIME,
            "closed_at": _NULL_TIME,
            "closed_by": _NULL_TEXT,
            "note": _NULL_TEXT,
            "cancel_reason": _NULL_TEXT,
        },
    ),
    "PlacedCall": _object(
        ["callback", "channel_id"],
        {"callback": _ref("schemas", "Callback"), "channel_id": _TEXT},
    ),
    "Segment": _object(
        ["queue", "unit", "joined_at", "left_at", "outcome", "wait_s"],
        {
            "queue": _TEXT,
            "unit": _NULL_TEXT,
            "joined_at": _TIME,
            "left_at": _NULL_TIME,
            "outcome": _TEXT,
            "wait_s": _NULL_INT,
            "ring_attempts": _INT,
            "ring_no_answers": _INT,
            "agent": _NULL_TEXT,
            "talk_s": _NULL_INT,
        },
    ),
    "Call": _object(
        ["pbx", "uniqueid", "unit", "caller_number", "arrived_at", "outcome", "ended_at"],
        {
            "pbx": _TEXT,
            "uniqueid": _TEXT,
            "linkedid": _TEXT,
            "unit": _NULL_TEXT,
            "queue": _NULL_TEXT,
            "caller_number": {
                "type": ["string", "null"],
                "description": "null when withheld, erased, or of a unit the caller does not serve",
            },
            "caller_name": _NULL_TEXT,
            "caller_raw": {
                "type": ["string", "null"],
                "description": (
                    "the caller ID number as the PBX sent it (anonymous, 55193292, "
                    "004535456134, +46...); null when it sent none, when erased, or of a "
                    "unit the caller does not serve"
                ),
            },
            "arrived_at": _TIME,
            "during_hours": _BOOL,
            "pbx_hours": _NULL_TEXT,
            "hours_disagree": _BOOL,
            "outcome": _TEXT,
            "short_abandon": _BOOL,
            "wait_s": _NULL_INT,
            "ring_attempts": _INT,
            "talk_s": _NULL_INT,
            "agent": _NULL_TEXT,
            "ended_at": _TIME,
            "segments": _list_of("Segment"),
            "source": _TEXT,
        },
    ),
    "AttemptRequest": _object(
        ["outcome"], {"outcome": {"type": "string", "enum": _OUTCOMES}, "note": _SHORT}
    ),
    "OriginateRequest": {
        **_object([], {"confirm_closed": {"type": "boolean", "default": False}}),
        "not": {"required": ["agent_device"]},
        "description": (
            "names no device: the call rings the phone an admin set on the signed-in "
            "agent's account; a body with agent_device is refused (400)"
        ),
    },
    "ClaimRequest": _object([], {"force": {"type": "boolean", "default": False}}),
    "CancelRequest": _object(["reason"], {"reason": {"type": "string", "maxLength": 280}}),
}


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    """An optional query parameter."""
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


PARAMETERS: dict[str, Any] = {
    "CallbackId": {
        "name": "callback_id",
        "in": "path",
        "required": True,
        "description": "the task's id",
        "schema": {"type": "integer", "minimum": 0, "maximum": 2**31 - 1},
    },
    "UnitFilter": _query("unit", "only this unit (unknown: 404)", {"type": "string"}),
    "StateFilter": _query("state", "only tasks in this state", {"type": "string", "enum": _STATES}),
    "CallsFrom": _query("from", "first arrival date, YYYY-MM-DD", {"type": "string"}),
    "CallsTo": _query("to", "last arrival date (inclusive), YYYY-MM-DD", {"type": "string"}),
    "Limit": _query(
        "limit", "at most this many calls", {"type": "integer", "minimum": 1, "maximum": 1000}
    ),
}

_ERROR = _ref("schemas", "Error")
_ERRORS = {
    "400": _json("a parameter or the body is wrong", _ERROR),
    "401": _json("no token and no session", _ERROR),
    "403": _json("the token or role lacks the 'callbacks' scope, or the unit is not yours", _ERROR),
    "404": _json("no such unit, or no such task among your units", _ERROR),
}
_CONFLICT = _json(
    "refused by the task's state: claimed, invalid_transition, call_in_flight, unit_closed",
    _ERROR,
)


def _operation(
    summary: str, ok: tuple[str, dict[str, Any]], params: list[str], body: str | None = None
) -> dict[str, Any]:
    """One authenticated operation with its parameters, body and responses."""
    responses = {ok[0]: ok[1], **_ERRORS}
    found: dict[str, Any] = {
        "summary": summary,
        "security": _SECURITY,
        "parameters": [_ref("parameters", p) for p in params],
        "responses": responses,
    }
    if body is not None:
        found["requestBody"] = {
            "required": body != "ClaimRequest",
            "content": {"application/json": {"schema": _ref("schemas", body)}},
        }
        responses["409"] = _CONFLICT
    return found


def _action(summary: str, body: str | None, status: str = "200") -> dict[str, Any]:
    """A POST on one task answering with the task."""
    ok = _json("the task after the action", _ref("schemas", "Callback"))
    post = _operation(summary, (status, ok), ["CallbackId"], body)
    post["responses"].setdefault("409", _CONFLICT)
    return {"post": post}


def _originate() -> dict[str, Any]:
    """The originate operation: a signed-in person only, their own phone first."""
    post = _operation(
        "place the call through the PBX: the signed-in agent's own phone, then the citizen",
        ("202", _json("the call is requested", _ref("schemas", "PlacedCall"))),
        ["CallbackId"],
        "OriginateRequest",
    )
    post["description"] = (
        "The phone that rings first is the device an admin set on the account (checked "
        "against the registry's [pbx] agent_device_pattern); the request cannot name one. "
        "A session only: a token belongs to no person and has no phone (403)."
    )
    post["requestBody"]["required"] = False
    responses = post["responses"]
    responses["400"] = _json("the body is wrong, or names an agent_device", _ERROR)
    responses["403"] = _json("an API token (no person), or the unit is not yours", _ERROR)
    responses["409"] = _json(
        "refused: no_device (ask an admin to set your phone), device_refused, claimed, "
        "invalid_transition, call_in_flight, unit_closed",
        _ERROR,
    )
    return post


_TASKS = "tasks of your units, overdue first, then by due time"
PATHS: dict[str, Any] = {
    "/api/v1/calls": {
        "get": _operation(
            "logged calls, oldest first; numbers only of your units",
            ("200", _json("calls", _list_of("Call"))),
            ["UnitFilter", "CallsFrom", "CallsTo", "Limit"],
        )
    },
    "/api/v1/callbacks": {
        "get": _operation(
            _TASKS,
            ("200", _json("tasks", _list_of("Callback"))),
            ["UnitFilter", "StateFilter"],
        )
    },
    "/api/v1/callbacks/{callback_id}": {
        "get": _operation(
            "one task with its attempts",
            ("200", _json("the task", _ref("schemas", "Callback"))),
            ["CallbackId"],
        )
    },
    "/api/v1/callbacks/{callback_id}/attempts": _action(
        "record an attempt; reached closes the task", "AttemptRequest", "201"
    ),
    "/api/v1/callbacks/{callback_id}/originate": {"post": _originate()},
    "/api/v1/callbacks/{callback_id}/claim": _action("take the task", "ClaimRequest"),
    "/api/v1/callbacks/{callback_id}/release": _action("give the task back", None),
    "/api/v1/callbacks/{callback_id}/cancel": _action(
        "close the task as cancelled", "CancelRequest"
    ),
}
