"""The JSON shapes of SPEC §8/§9, shared by the command line and the HTTP API."""

from __future__ import annotations

from typing import Any

from phoneservice.domain.localtime import iso
from phoneservice.domain.schedule import DayPlan, Interval
from phoneservice.domain.units import Unit
from phoneservice.services import Deadline, UnitStatus


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
    }
