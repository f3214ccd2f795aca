"""The callback work queue ``/callbacks``: the tasks of the signed-in user's units.

Every task is one line; the selected one (``?task=<id>``, or picked in the page) opens
with its actions. Every action is a plain POST form that answers with a redirect back to
the queue, so the page works without JavaScript; htmx sends the same forms and gets the
task's row alone. A refusal by the callback rules (another's claim, a closed task, a
closed unit) is shown on the row in Danish, never as an error page. A placed call is
followed live: ``/callbacks/<id>/call`` answers its state while it rings (polled), then
the whole row once the PBX decided it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    flash,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    url_for,
)

from phoneservice.domain.callbacks.rules import (
    IN_FLIGHT,
    OPEN,
    STATES,
    Attempt,
    Callback,
    CallbackError,
)
from phoneservice.services.callbacks import CallbackService, CallbackView
from phoneservice.web import access, store
from phoneservice.web.auth import principal, role_required
from phoneservice.web.board.api import known
from phoneservice.web.errors import BadParameter, refusal

blueprint = Blueprint("callbacks", __name__)

NO_STORE = {"Cache-Control": "no-store", "Vary": "HX-Request"}
POLL_SETTING = "CALLBACKS_POLL_SECONDS"  # app.config: how often the list refreshes itself
DEFAULT_POLL_SECONDS = 60
CALL_POLL_SETTING = "CALLBACKS_CALL_POLL_SECONDS"  # app.config: how often a ringing call is asked
DEFAULT_CALL_POLL_SECONDS = 1
ALL = "all"
STAFF_ROLES = ("agent", "admin")
Action = Callable[[CallbackService, str], CallbackView]
Detail = Callable[[CallbackView], str | None]
Message = Mapping[str, str]  # {"notice": code} or {"problem": code}


@dataclass(frozen=True, slots=True)
class Listing:
    """What the queue shows: one unit or all of the user's, and one state or all."""

    unit: str | None
    state: str
    task: int | None = None  # the selected task, shown open

    @property
    def states(self) -> str | None:
        """The state to ask the service for (None: every state)."""
        return None if self.state == ALL else self.state

    def args(self) -> dict[str, Any]:
        """The listing as query arguments (a default is left out)."""
        found = {"unit": self.unit or "", "state": self.state if self.state != OPEN else ""}
        return {key: value for key, value in found.items() if value}


@dataclass(frozen=True, slots=True)
class Row:
    """One task as its row shows it, with what just happened to it."""

    view: CallbackView
    unit_name: str
    number: str | None
    listed: bool
    notice: str | None = None
    problem: str | None = None
    selected: bool = False

    @property
    def placed(self) -> Attempt | None:
        """The latest call placed through the PBX, if any (its state is shown live)."""
        calls = [a for a in self.task.attempts if a.channel_id]
        return calls[-1] if calls else None

    @property
    def ringing(self) -> bool:
        """Whether the latest placed call has no outcome yet (its state is polled)."""
        placed = self.placed
        return placed is not None and placed.outcome is None and placed.status in IN_FLIGHT

    @property
    def task(self) -> Callback:
        """The task itself."""
        return self.view.callback


@blueprint.get("/callbacks")
@role_required(*STAFF_ROLES)
def queue_page() -> tuple[str, int, dict[str, str]]:
    """The queue: overdue first, then by due time; filters by unit and state."""
    listing = read_listing(request.args)
    flashed = flashed_by_task()
    rows = queue_rows_for(listing, flashed)
    shown = {row.task.id for row in rows}
    away = {task_id: message for task_id, message in flashed.items() if task_id not in shown}
    page = render_template(
        "callbacks.html",
        **context(listing, rows),
        units=unit_choices(),
        states=(*STATES, ALL),
        away=away,
    )
    return page, 200, NO_STORE


@blueprint.get("/callbacks/rows")
@role_required(*STAFF_ROLES)
def queue_rows() -> tuple[str, int, dict[str, str]]:
    """The list alone: what the page fetches every minute to show new missed calls."""
    listing = read_listing(request.args)
    rows = queue_rows_for(listing, {})
    return render_template("_callback_rows.html", **context(listing, rows)), 200, NO_STORE


@blueprint.get("/callbacks/<int:callback_id>/call")
@role_required(*STAFF_ROLES)
def call_state(callback_id: int) -> Any:
    """The placed call's state while it rings; once decided, the whole row (htmx retargets).

    Polled every second or two with ``X-Phoneservice-Poll: 1``, so it keeps no session
    alive. Only what the PBX reported is shown: nothing says the citizen was reached
    before the attempt's outcome is ``reached``.
    """
    view = access.task(callback_id)
    listing = read_listing(request.args)
    row = build_row(view, listing, {}, selected=request.args.get("open") == "1")
    if row.ringing:
        page = render_template("_callback_call.html", row=row, **context(listing, [row]))
        return Response(page, 200, headers=NO_STORE)
    access.log("view.callback", str(callback_id))
    page = render_template("_callback_row.html", row=row, **context(listing, [row]))
    target = {"HX-Retarget": f"#task-{callback_id}", "HX-Reswap": "outerHTML"}
    return Response(page, 286, headers={**NO_STORE, **target})  # 286: htmx stops polling


@blueprint.post("/callbacks/<int:callback_id>/claim")
@role_required(*STAFF_ROLES)
def claim(callback_id: int) -> Any:
    """Take the task (an admin may take it over from a colleague)."""
    force = request.form.get("force") == "1" and principal().is_admin

    def run(service: CallbackService, me: str) -> CallbackView:
        return service.claim(callback_id, me, force=force)

    return act(callback_id, "claim", run, lambda _view: "force=True" if force else None)


@blueprint.post("/callbacks/<int:callback_id>/release")
@role_required(*STAFF_ROLES)
def release(callback_id: int) -> Any:
    """Give the task back to the queue."""
    return act(callback_id, "release", lambda s, me: s.release(callback_id, me))


@blueprint.post("/callbacks/<int:callback_id>/attempt")
@role_required(*STAFF_ROLES)
def attempt(callback_id: int) -> Any:
    """Record how a try to reach the citizen went, with a short note."""

    def run(service: CallbackService, me: str) -> CallbackView:
        outcome = access.outcome(request.form.get("outcome"))
        note = access.short_text("note", request.form.get("note"))
        return service.attempt(callback_id, me, outcome, note)

    return act(callback_id, "attempt", run, outcome_detail)


@blueprint.post("/callbacks/<int:callback_id>/call")
@role_required(*STAFF_ROLES)
def place_call(callback_id: int) -> Any:
    """Have the PBX ring the agent's own phone (set on the account), then the citizen.

    While the unit is closed, only when confirmed. The form names no device.
    """
    confirmed = request.form.get("confirm_closed") == "1"

    def run(service: CallbackService, me: str) -> CallbackView:
        return service.place_call(callback_id, me, confirm_closed=confirmed).view

    return act(callback_id, "originate", run, call_detail)


@blueprint.post("/callbacks/<int:callback_id>/note")
@role_required(*STAFF_ROLES)
def note(callback_id: int) -> Any:
    """Set the task's short note for colleagues (empty clears it)."""

    def run(service: CallbackService, me: str) -> CallbackView:
        return service.note(callback_id, me, access.short_text("note", request.form.get("note")))

    return act(callback_id, "note", run)


@blueprint.post("/callbacks/<int:callback_id>/cancel")
@role_required(*STAFF_ROLES)
def cancel(callback_id: int) -> Any:
    """Close the task as cancelled, with a reason."""

    def run(service: CallbackService, me: str) -> CallbackView:
        reason = access.short_text("reason", request.form.get("reason"), required=True)
        return service.cancel(callback_id, me, str(reason))

    return act(callback_id, "cancel", run, lambda view: f"state={view.callback.state}")


def act(callback_id: int, action: str, run: Action, detail: Detail | None = None) -> Any:
    """Do one action on a task of the user's units; answer with its row or a redirect."""
    access.task(callback_id)  # a task outside the user's units is not found
    try:
        view = run(store.callbacks(), principal().actor)
    except BadParameter as exc:
        return answer(callback_id, {"problem": "input:" + str(exc).split(":", 1)[0]})
    except CallbackError as exc:
        return answer(callback_id, {"problem": refusal(exc)})
    access.log(f"callback.{action}", str(callback_id), detail(view) if detail else None)
    return answer(callback_id, {"notice": action}, view)


def outcome_detail(view: CallbackView) -> str:
    """The access log's detail of an attempt: its outcome and the task's state after it."""
    return f"outcome={view.callback.attempts[-1].outcome} state={view.callback.state}"


def call_detail(view: CallbackView) -> str:
    """The access log's detail of a placed call: its ChannelId and the agent's device."""
    placed = view.callback.attempts[-1]
    return f"channel_id={placed.channel_id} device={placed.agent_device}"


def answer(callback_id: int, message: Message, view: CallbackView | None = None) -> Any:
    """htmx: the task's row with the message; a plain form: back to the queue."""
    listing = read_listing(request.form, prefix="list_")
    if request.headers.get("HX-Request") != "true":
        for kind, code in message.items():
            flash(f"{code}:{callback_id}", kind)
        target = url_for(
            "callbacks.queue_page",
            **listing.args(),
            task=callback_id,
            _anchor=f"task-{callback_id}",
        )
        return redirect(target, 303)
    row = build_row(view or store.callbacks().get(callback_id), listing, message, selected=True)
    page = render_template("_callback_row.html", row=row, **context(listing, [row]))
    return Response(page, 200, headers=NO_STORE)


def read_listing(values: Mapping[str, str], prefix: str = "") -> Listing:
    """The unit and state asked for, and the task selected; a unit outside the user's is
    refused (403)."""
    unit = values.get(prefix + "unit") or None
    state = values.get(prefix + "state") or OPEN
    task = values.get(prefix + "task") or None
    if state not in (*STATES, ALL):
        raise BadParameter(f"state: {state!r} must be one of {', '.join((*STATES, ALL))}")
    if task is not None and not (task.isascii() and task.isdigit() and len(task) < 12):
        raise BadParameter(f"task: {task!r} must be a task id")
    if unit is not None:
        known(unit)
        units = access.visible_units()
        if units is not None and unit not in units:
            abort(403)
    return Listing(unit, state, None if task is None else int(task))


def queue_rows_for(listing: Listing, flashed: Mapping[int, Message]) -> list[Row]:
    """The rows of the queue, written to the access log as one view."""
    units = access.visible_units()
    views = store.callbacks().list(listing.unit, listing.states, units)
    ids = [view.callback.id or 0 for view in views]
    subject = access.units_subject(listing.unit, units)
    access.log_list("view.callbacks", subject, len(ids), access.compact(ids))
    return [
        build_row(view, listing, flashed.get(i, {}), selected=i == listing.task or i in flashed)
        for view, i in zip(views, ids, strict=True)
    ]


def build_row(
    view: CallbackView, listing: Listing, message: Message, *, selected: bool = False
) -> Row:
    """A task's row: its unit's name, the number if the user serves the unit, the message,
    and whether it is the one open."""
    task = view.callback
    unit = store.callbacks().registry.units.get(task.unit)
    return Row(
        view=view,
        unit_name=unit.name if unit is not None else task.unit,
        number=access.shown_number(task.unit, task.caller_number),
        listed=listing.states in (None, task.state),
        notice=message.get("notice"),
        problem=message.get("problem"),
        selected=selected,
    )


def flashed_by_task() -> dict[int, Message]:
    """The messages of the actions just done without JavaScript, by task id."""
    found: dict[int, Message] = {}
    flashed = cast("list[tuple[str, str]]", get_flashed_messages(with_categories=True))
    for kind, text in flashed:
        code, _, task_id = text.rpartition(":")
        if task_id.isdigit():
            found[int(task_id)] = {kind: code}
    return found


def unit_choices() -> list[tuple[str, str]]:
    """The units to filter by: every unit for an admin, the user's own when they have several."""
    units = access.visible_units()
    registry = store.callbacks().registry
    choices = [(u.id, u.name) for u in registry.units.values() if units is None or u.id in units]
    return choices if len(choices) > 1 else []


def own_device() -> str | None:
    """The signed-in person's own phone, as an admin set it (None: not set)."""
    user = principal().user
    return None if user is None else user.agent_device


def context(listing: Listing, rows: list[Row]) -> dict[str, Any]:
    """What every callback template needs."""
    now: datetime = store.callbacks().now()
    return {
        "listing": listing,
        "rows": rows,
        "now": now.astimezone(store.callbacks().registry.timezone),
        "me": principal().actor,
        "is_admin": principal().is_admin,
        "device": own_device(),
        "poll": current_app.config.get(POLL_SETTING, DEFAULT_POLL_SECONDS),
        "call_poll": current_app.config.get(CALL_POLL_SETTING, DEFAULT_CALL_POLL_SECONDS),
        "in_flight": IN_FLIGHT,
        "overdue": sum(row.view.overdue for row in rows),
    }
