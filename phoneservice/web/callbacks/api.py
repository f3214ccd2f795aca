"""The authenticated JSON API: calls and callback tasks (SPEC §9), scope ``callbacks``.

A bearer token or a signed-in session (writes then need ``X-CSRFToken``), see
:func:`phoneservice.web.auth.api_auth`. Numbers only for the principal's own units; a
task outside them answers 404 as if it did not exist. Every list and task shown, and
every action, goes into the access log (SPEC §11).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from flask import Blueprint, Response, jsonify, request

from phoneservice.domain.callbacks.rules import STATES
from phoneservice.domain.calls.records import CallRecord
from phoneservice.present.shapes import call_shape, callback_shape
from phoneservice.services.callbacks import CallbackService, CallbackView
from phoneservice.web import access, store
from phoneservice.web.auth import api_auth, principal
from phoneservice.web.board.api import known, optional_day
from phoneservice.web.errors import BadParameter, problem

blueprint = Blueprint("api_staff", __name__, url_prefix="/api/v1")

SCOPE = "callbacks"
NO_STORE = {"Cache-Control": "no-store"}
LIMIT = re.compile(r"[0-9]{1,4}")
MAX_CALLS, DEFAULT_CALLS = 1000, 200
Answer = tuple[Response, int, dict[str, str]]
DEVICE_FROM_ACCOUNT = (
    "agent_device: not accepted; the call rings the phone an admin set on your account"
)
PERSONS_ONLY = (
    "an API token cannot place calls: a call rings a person's own phone first, "
    "and a token belongs to no person; sign in as the agent"
)
Action = Callable[[CallbackService, str], CallbackView]


@blueprint.get("/calls")
@api_auth(SCOPE)
def calls() -> Answer:
    """Logged calls, oldest first; numbers only of the principal's units."""
    unit = request.args.get("unit")
    if unit is not None:
        known(unit)
    start, end = call_period()
    found = store.calls().calls(unit, start, end, call_limit())
    subject = access.units_subject(unit, access.visible_units())
    access.log_list("view.calls", subject, len(found), ",".join(c.uniqueid for c in found))
    return jsonify([shown_call(record) for record in found]), 200, NO_STORE


@blueprint.get("/callbacks")
@api_auth(SCOPE)
def callbacks() -> Answer:
    """Tasks of the principal's units (or one of them), overdue first, then by due time."""
    unit, state, units = request.args.get("unit"), request.args.get("state"), access.visible_units()
    if unit is not None:
        known(unit)
        if units is not None and unit not in units:
            return forbidden(f"unit {unit!r} is not one of yours")
    if state is not None and state not in STATES:
        raise BadParameter(f"state: {state!r} must be one of {', '.join(STATES)}")
    found = store.callbacks().list(unit, state, units)
    ids = [view.callback.id or 0 for view in found]
    access.log_list(
        "view.callbacks", access.units_subject(unit, units), len(ids), access.compact(ids)
    )
    return jsonify([shown_task(view) for view in found]), 200, NO_STORE


@blueprint.get("/callbacks/<int:callback_id>")
@api_auth(SCOPE)
def callback(callback_id: int) -> Answer:
    """One task with its attempts."""
    view = access.task(callback_id)
    access.log("view.callback", str(callback_id))
    return jsonify(shown_task(view)), 200, NO_STORE


@blueprint.post("/callbacks/<int:callback_id>/attempts")
@api_auth(SCOPE)
def attempts(callback_id: int) -> Answer:
    """Record an attempt ``{"outcome", "note"}``: 201 with the task (it may close it)."""
    body = json_body()
    outcome = access.outcome(body.get("outcome"))
    note = access.short_text("note", body.get("note"))
    view = act(callback_id, lambda s, me: s.attempt(callback_id, me, outcome, note))
    access.log(
        "callback.attempt", str(callback_id), f"outcome={outcome} state={view.callback.state}"
    )
    return jsonify(shown_task(view)), 201, NO_STORE


@blueprint.post("/callbacks/<int:callback_id>/originate")
@api_auth(SCOPE)
def originate(callback_id: int) -> Answer:
    """Have the PBX ring the signed-in agent's own phone, then the citizen: 202.

    The phone is the device an admin set on the account; the request cannot name one. A
    token belongs to no person, so it has no phone to ring first: 403.
    """
    body = json_body(optional=True)
    if "agent_device" in body:
        raise BadParameter(DEVICE_FROM_ACCOUNT)
    confirmed = flag(body, "confirm_closed")
    if principal().user is None:
        return forbidden(PERSONS_ONLY)
    access.task(callback_id)
    placed = store.callbacks().place_call(callback_id, principal().actor, confirm_closed=confirmed)
    device = placed.view.callback.attempts[-1].agent_device
    detail = f"channel_id={placed.channel_id} device={device} confirm_closed={confirmed}"
    access.log("callback.originate", str(callback_id), detail)
    shape = {"callback": shown_task(placed.view), "channel_id": placed.channel_id}
    return jsonify(shape), 202, NO_STORE


@blueprint.post("/callbacks/<int:callback_id>/claim")
@api_auth(SCOPE)
def claim(callback_id: int) -> Answer:
    """Take the task; ``{"force": true}`` lets an admin take it over from a colleague."""
    force = flag(json_body(optional=True), "force")
    if force and not principal().is_admin:
        return forbidden("only an admin takes over a claimed task")
    view = act(callback_id, lambda s, me: s.claim(callback_id, me, force=force))
    access.log("callback.claim", str(callback_id), "force=True" if force else None)
    return jsonify(shown_task(view)), 200, NO_STORE


@blueprint.post("/callbacks/<int:callback_id>/release")
@api_auth(SCOPE)
def release(callback_id: int) -> Answer:
    """Give the task back to the queue."""
    json_body(optional=True)
    view = act(callback_id, lambda s, me: s.release(callback_id, me))
    access.log("callback.release", str(callback_id))
    return jsonify(shown_task(view)), 200, NO_STORE


@blueprint.post("/callbacks/<int:callback_id>/cancel")
@api_auth(SCOPE)
def cancel(callback_id: int) -> Answer:
    """Close the task as cancelled, ``{"reason": ...}`` (required, at most 280 characters)."""
    reason = str(access.short_text("reason", json_body().get("reason"), required=True))
    view = act(callback_id, lambda s, me: s.cancel(callback_id, me, reason))
    access.log("callback.cancel", str(callback_id), f"state={view.callback.state}")
    return jsonify(shown_task(view)), 200, NO_STORE


def act(callback_id: int, run: Action) -> CallbackView:
    """Run an action on a task of the principal's units (others: 404) as the principal."""
    access.task(callback_id)
    return run(store.callbacks(), principal().actor)


def forbidden(detail: str) -> Answer:
    """403 for a signed-in principal asking beyond their rights."""
    body, status = problem(403, "forbidden", detail)
    return body, status, NO_STORE


def shown_task(view: CallbackView) -> dict[str, Any]:
    """A task's JSON, the number only if the principal serves its unit."""
    shape = callback_shape(view, store.callbacks().registry.timezone)
    shape["caller_number"] = access.shown_number(view.callback.unit, view.callback.caller_number)
    return shape


def shown_call(record: CallRecord) -> dict[str, Any]:
    """A call's JSON; number, name and raw caller ID only if the principal serves its unit."""
    shape = call_shape(record, store.callbacks().registry.timezone)
    if access.shown_number(record.unit, record.caller_number or record.caller_raw) is None:
        shape["caller_number"] = shape["caller_name"] = shape["caller_raw"] = None
    return shape


def call_period() -> tuple[datetime | None, datetime | None]:
    """``from`` and ``to`` (inclusive dates) as the instants that bound the arrival time."""
    first, last = optional_day("from"), optional_day("to")
    if first is not None and last is not None and last < first:
        raise BadParameter(f"to: {last.isoformat()!r} is before from {first.isoformat()!r}")
    tz = store.callbacks().registry.timezone
    start = None if first is None else datetime.combine(first, time(), tz)
    end = None if last is None else datetime.combine(last + timedelta(days=1), time(), tz)
    return start, end


def call_limit() -> int:
    """``limit``: how many calls at most, 1 to 1000 (default 200)."""
    text = request.args.get("limit")
    if text is None:
        return DEFAULT_CALLS
    if not LIMIT.fullmatch(text) or not 1 <= int(text) <= MAX_CALLS:
        raise BadParameter(f"limit: {text!r} must be a whole number from 1 to {MAX_CALLS}")
    return int(text)


def json_body(*, optional: bool = False) -> dict[str, Any]:
    """The request's JSON object; an empty body is ``{}`` when ``optional``."""
    if optional and not request.get_data():
        return {}
    found = request.get_json(silent=True)
    if not isinstance(found, dict):
        raise BadParameter("body: must be a JSON object (Content-Type: application/json)")
    return found


def flag(body: dict[str, Any], name: str) -> bool:
    """A boolean member of the body (absent: false)."""
    value = body.get(name, False)
    if not isinstance(value, bool):
        raise BadParameter(f"{name}: {value!r} must be true or false")
    return value
