"""Phone hours as use cases: open or closed (overrides included), hours and deadlines.

:class:`HoursService` is the one owner of "is this unit open at T": the board, the API, the
CLI, the call log, callbacks, overrides and the unit-state job ask it (or, in the worker's
trigger, the same domain function it uses), never the domain's walk with their own overrides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from phoneservice.domain.hours.schedule import DayPlan
from phoneservice.domain.hours.status import (
    Override,
    Status,
    earliest_change,
    effective_days,
    unit_statuses,
)
from phoneservice.domain.hours.workdays import deadline
from phoneservice.domain.units import Unit
from phoneservice.registry import Registry
from phoneservice.registry.holder import RegistryHolder, as_holder
from phoneservice.services.clock import Clock, system_clock
from phoneservice.services.freshness import Finding, needs_look


@dataclass(frozen=True, slots=True)
class UnitStatus:
    """A unit with its status at one instant."""

    unit: Unit
    status: Status


@dataclass(frozen=True, slots=True)
class Deadline:
    """The callback deadline for a call missed at ``received_at``."""

    unit: Unit
    received_at: datetime
    due_at: datetime


OverrideSource = Callable[[], Sequence[Override]]


def no_overrides() -> Sequence[Override]:
    """The override source where none can be stored (a registry file without a database)."""
    return ()


class HoursService:
    """The one answer to "is this unit open at T" (overrides included), effective hours and
    deadlines, over the registry in use (hot-reloaded). Every door asks here.
    """

    def __init__(
        self,
        registry: Registry | RegistryHolder,
        clock: Clock = system_clock,
        overrides: OverrideSource = no_overrides,
    ) -> None:
        self.holder = as_holder(registry)
        self.clock = clock
        self.overrides = overrides  # the composition root wires the override cache

    @property
    def registry(self) -> Registry:
        """The registry in use now: a reload swaps it between two questions, never within."""
        return self.holder.registry

    def now(self) -> datetime:
        """The current instant in the registry's time zone."""
        return self.clock().astimezone(self.registry.timezone)

    def today(self) -> date:
        """Today's local date."""
        return self.now().date()

    def units(self, ids: Sequence[str] = ()) -> list[Unit]:
        """The units named by ``ids`` (all, in file order, when empty)."""
        registry = self.registry
        if not ids:
            return list(registry.units.values())
        return [registry.unit(unit_id) for unit_id in ids]

    def status(self, ids: Sequence[str] = (), at: datetime | None = None) -> list[UnitStatus]:
        """Each unit's status at ``at`` (now by default), overrides included."""
        units = self.units(ids)
        pairs = [(unit.id, unit.schedule) for unit in units]
        found = unit_statuses(pairs, at or self.now(), self.overrides())
        return [UnitStatus(unit, state) for unit, state in zip(units, found, strict=True)]

    def is_open(self, unit_id: str, at: datetime) -> bool:
        """Whether ``unit_id`` is open at ``at``, overrides included (an unknown unit: no)."""
        unit = self.registry.units.get(unit_id)
        if unit is None:
            return False
        (found,) = unit_statuses([(unit.id, unit.schedule)], at, self.overrides())
        return found.open

    def next_change(self, after: datetime) -> datetime | None:
        """The first instant after ``after`` at which any unit opens or closes, or one of
        their overrides starts or ends (the worker's unit-state trigger asks this)."""
        schedules = {unit.id: unit.schedule for unit in self.registry.units.values()}
        return earliest_change(schedules, after, self.overrides())

    def hours(self, unit_id: str, first: date | None = None, days: int = 7) -> list[DayPlan]:
        """The effective intervals of a unit for ``days`` dates from ``first`` (today),
        with the unit's manual overrides applied as the status applies them."""
        unit = self.registry.unit(unit_id)
        own = [o for o in self.overrides() if o.unit == unit.id]
        return effective_days(unit.schedule, first or self.today(), days, own)

    def deadline(self, unit_id: str, received_at: datetime) -> Deadline:
        """When a call to ``unit_id`` missed at ``received_at`` must be acknowledged."""
        registry = self.registry
        unit, tz = registry.unit(unit_id), registry.timezone
        due = deadline(unit.schedule.calendar, received_at, tz)
        return Deadline(unit, received_at.astimezone(tz), due)

    def needs_look(self) -> list[Finding]:
        """The units whose entry needs a look today (the ``check-config`` warnings)."""
        return needs_look(self.registry, self.today())

    def horizon(self, days: int) -> tuple[date, date]:
        """Today and the date ``days`` later."""
        today = self.today()
        return today, today + timedelta(days=days)
