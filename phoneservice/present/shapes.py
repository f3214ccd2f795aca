"""The JSON shapes of SPEC §8/§9, shared by the command line and the HTTP API."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from phoneservice.domain.hours.schedule import DayPlan, Interval
from phoneservice.domain.localtime import iso
from phoneservice.domain.units import Unit
from phoneservice.services.hours import Deadline, UnitStatus

if TYPE_CHECKING:  # only annotations: `status` and `hours` load neither calls nor callbacks
    from phoneservice.domain.callbacks.rules import Attempt
    from phoneservice.domain.calls.records import CallRecord, Segment
    from phoneservice.services.callbacks import CallbackView


def clock_text(minute: int) -> str:
    """Minutes after midnight as ``HH:MM`` (an end of 1440 is ``24:00``)."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def interval_text(interval: Interval) -> str:
    """An interval as written in the registry (``22:00-02:00`` runs past midnight)."""
    end = interval.end - 1440 if interval.end > 1440 else interval.end
    return f"{clock_text(interval.start)}-{clock_text(end)}"


def status_shape(entry: UnitStatus) -> dict[str, Any]:
    """``status --json`` / ``GET /api/v1/status`` item."""
    unit, state = entry.unit, entry.status
    shape: dict[str, Any] = {
        "id": unit.id,
        "name": unit.name,
        "kind": unit.kind,
        "open": state.open,
        "reason": state.reason,
        "closes_at": iso(state.closes_at),
        "next_open": iso(state.next_open),
    }
    shape["override"] = (
        None
        if state.override is None
        else {
            "open": state.override.open,
            "reason": state.override.reason,
            "until": iso(state.override.end),
        }
    )
    return shape


def day_shape(plan: DayPlan) -> dict[str, Any]:
    """``hours --json`` item."""
    return {
        "date": plan.day.isoformat(),
        "intervals": [interval_text(i) for i in plan.intervals],
        "reason": plan.reason,
    }


def deadline_shape(found: Deadline) -> dict[str, Any]:
    """``deadline --json``."""
    return {
        "unit": found.unit.id,
        "received_at": iso(found.received_at),
        "due_at": iso(found.due_at),
    }


def unit_shape(unit: Unit) -> dict[str, Any]:
    """A unit's directory entry (no schedule)."""
    return {
        "id": unit.id,
        "name": unit.name,
        "kind": unit.kind,
        "phone": unit.phone,
        "menu": unit.menu,
        "email": unit.email,
        "url": unit.url,
        "notes": unit.notes,
        "after_hours": unit.after_hours,
        "tags": list(unit.tags),
        "queues": list(unit.queues),
        "dids": list(unit.dids),
        "calendar": unit.calendar,
        "verified": unit.verified.isoformat() if unit.verified else None,
        # null unless the reader may see it: pass the unit as ``Unit.seen_by`` gives it
        "transfer": unit.transfer,
    }


def call_shape(record: CallRecord, tz: ZoneInfo) -> dict[str, Any]:
    """``calls --json`` / ``GET /api/v1/calls`` item: the fields of SPEC §5.1."""
    return {
        "pbx": record.pbx,
        "uniqueid": record.uniqueid,
        "linkedid": record.linkedid,
        "unit": record.unit,
        "queue": record.queue,
        "caller_number": record.caller_number,
        "caller_name": record.caller_name,
        "caller_raw": record.caller_raw,
        "arrived_at": iso(record.arrived_at.astimezone(tz)),
        "during_hours": record.during_hours,
        "pbx_hours": record.pbx_hours,
        "hours_disagree": record.hours_disagree,
        "outcome": record.outcome,
        "short_abandon": record.short_abandon,
        "wait_s": record.wait_s,
        "ring_attempts": record.ring_attempts,
        "talk_s": record.talk_s,
        "agent": record.agent,
        "ended_at": iso(record.ended_at.astimezone(tz)),
        "segments": [segment_shape(s, tz) for s in record.segments],
        "source": record.source,
    }


def segment_shape(segment: Segment, tz: ZoneInfo) -> dict[str, Any]:
    """One queue visit of a call."""
    left = segment.left_at.astimezone(tz) if segment.left_at else None
    return {
        "queue": segment.queue,
        "unit": segment.unit,
        "joined_at": iso(segment.joined_at.astimezone(tz)),
        "left_at": iso(left),
        "outcome": segment.outcome,
        "wait_s": segment.wait_s,
        "ring_attempts": segment.ring_attempts,
        "ring_no_answers": segment.ring_no_answers,
        "agent": segment.agent,
        "talk_s": segment.talk_s,
    }


def callback_shape(view: CallbackView, tz: ZoneInfo) -> dict[str, Any]:
    """``callbacks --json`` / ``GET /api/v1/callbacks`` item: SPEC §8's fields first, then more."""
    task = view.callback
    return {
        "id": task.id,
        "unit": task.unit,
        "caller_number": task.caller_number,
        "state": task.state,
        "created_at": local_iso(task.created_at, tz),
        "due_at": local_iso(task.due_at, tz),
        "missed_calls": task.missed_calls,
        "attempts": [attempt_shape(attempt, tz) for attempt in task.attempts],
        "resolution": task.resolution,
        "overdue": view.overdue,
        "on_time": task.on_time(),
        "first_call_at": local_iso(task.first_call_at, tz),
        "short_abandons": task.short_abandons,
        "claimed_by": task.claimed_by,
        "claimed_at": local_iso(task.claimed_at, tz),
        "closed_at": local_iso(task.closed_at, tz),
        "closed_by": task.closed_by,
        "note": task.note,
        "cancel_reason": task.cancel_reason,
    }


def attempt_shape(attempt: Attempt, tz: ZoneInfo) -> dict[str, Any]:
    """One attempt of a task."""
    return {
        "at": local_iso(attempt.at, tz),
        "by": attempt.by,
        "outcome": attempt.outcome,
        "note": attempt.note,
        "channel_id": attempt.channel_id,
        "status": attempt.status,
    }


def local_iso(value: datetime | None, tz: ZoneInfo) -> str | None:
    """An instant in the registry's zone, ISO 8601 with offset; None stays None."""
    return None if value is None else iso(value.astimezone(tz))
