"""The loaded registry: units, calendars and the settings the file carries."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from zoneinfo import ZoneInfo

from phoneservice.domain.callbacks.originate import DEFAULT_DEVICE_PATTERN
from phoneservice.domain.evaluation.model import NO_GOALS, Goals
from phoneservice.domain.hours.calendar import Calendar
from phoneservice.domain.units import Unit
from phoneservice.registry.problems import Problem


@dataclass(frozen=True, slots=True)
class CallbackSettings:
    """The ``[callbacks]`` table."""

    short_abandon_seconds: int = 5
    outside_hours: str = "callback"
    max_attempts: int = 3
    retention_days: int = 90


@dataclass(frozen=True, slots=True)
class PbxSettings:
    """The ``[pbx]`` table."""

    hours_variable: str | None = None
    inbound_contexts: tuple[str, ...] = ("inbound",)
    # Every agent device must match it in full: it is all a placed call may ring first.
    agent_device_pattern: re.Pattern[str] = field(
        default_factory=lambda: re.compile(DEFAULT_DEVICE_PATTERN)
    )


class UnknownUnitError(KeyError):
    """A unit id that is not in the registry."""


@dataclass(frozen=True, eq=False)
class Registry:
    """Every unit and calendar of one registry file, validated."""

    path: str
    name: str
    timezone: ZoneInfo
    units: Mapping[str, Unit]
    calendars: Mapping[str, Calendar]
    callbacks: CallbackSettings = field(default_factory=CallbackSettings)
    pbx: PbxSettings = field(default_factory=PbxSettings)
    verified: date | None = None
    verify_after_days: int = 365  # a ``verified`` date older than this is warned about
    # ``[calendar] country`` as an ISO 3166 code: its holidays, and the region national
    # caller numbers are read in
    country: str = "DK"
    goals: Goals = NO_GOALS  # ``[goals]``: the defaults; each unit has its effective goals
    warnings: tuple[Problem, ...] = ()

    def unit(self, unit_id: str) -> Unit:
        """The unit with ``unit_id``; :class:`UnknownUnitError` if there is none."""
        try:
            return self.units[unit_id]
        except KeyError:
            raise UnknownUnitError(unit_id) from None

    def unit_for_queue(self, queue: str) -> Unit | None:
        """The unit that owns a PBX queue."""
        return next((u for u in self.units.values() if queue in u.queues), None)

    def unit_for_did(self, did: str) -> Unit | None:
        """The unit that owns an inbound number."""
        return next((u for u in self.units.values() if did in u.dids), None)

    def calendar_of(self, unit: Unit) -> Calendar:
        """The calendar a unit is on."""
        return unit.schedule.calendar
