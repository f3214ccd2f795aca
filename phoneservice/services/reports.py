"""The reports of SPEC §7 as a use case.

:class:`ReportService` reads one snapshot of the figures for a range of local dates
(per unit and in total, optionally split by day, week, month or year). Their JSON and
CSV shapes are in :mod:`phoneservice.present.reports`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.callbacks.rules import OUTSIDE_HOURS_CALLBACK
from phoneservice.domain.reports.figures import ReportParameters
from phoneservice.domain.reports.periods import periods
from phoneservice.domain.reports.report import Report, ReportRequest, build_report, row_names
from phoneservice.registry import Registry
from phoneservice.storage.reports import ReportRepository

Clock = Callable[[], datetime]


class ReportService:
    """The figures of SPEC §7 over one registry; each report is read in one session."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        registry: Registry,
        clock: Clock,
        thresholds: Mapping[str, int] | None = None,
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.clock = clock
        # T per unit (SPEC §7): the registry's service_level_seconds, unless given here
        configured = {u.id: u.service_level_seconds for u in registry.units.values()}
        self.thresholds = {k: v for k, v in configured.items() if v is not None}
        self.thresholds.update(thresholds or {})

    def parameters(self) -> ReportParameters:
        """The registry's settings that the figures depend on."""
        settings = self.registry.callbacks
        return ReportParameters(
            timezone=self.registry.timezone,
            short_abandon_s=settings.short_abandon_seconds,
            thresholds=self.thresholds,
            withheld_closed_count=settings.outside_hours == OUTSIDE_HOURS_CALLBACK,
        )

    def report(self, request: ReportRequest) -> Report:
        """The report asked for; ``UnknownUnitError`` for a unit the registry lacks."""
        if request.unit is not None:
            self.registry.unit(request.unit)
        tz, now = self.registry.timezone, self.clock()
        parts = periods(request.first, request.last, request.by, tz)
        with self.sessions() as session:
            data = ReportRepository(session).data(parts, request.unit, now)
        names = {unit.id: unit.name for unit in self.registry.units.values()}
        rows = row_names(names, data, request.unit)
        return build_report(request, parts, rows, data, self.parameters(), now.astimezone(tz))
