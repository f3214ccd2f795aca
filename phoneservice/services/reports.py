"""The reports of SPEC §7 as a use case.

:class:`ReportService` reads one snapshot of the figures for a range of local dates
(per unit and in total, optionally split by day, week, month or year). Their JSON and
CSV shapes are in :mod:`phoneservice.present.reports`. Every door asks :meth:`report`,
which refuses a report over the size limit (:mod:`phoneservice.domain.reports.limits`)
and keeps heavy ones for a minute (:mod:`phoneservice.services.report_cache`); only the
command line asks for an unlimited one.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.domain.callbacks.rules import OUTSIDE_HOURS_CALLBACK
from phoneservice.domain.reports.figures import ReportParameters
from phoneservice.domain.reports.limits import ReportSize, check_size
from phoneservice.domain.reports.periods import periods
from phoneservice.domain.reports.report import Report, ReportRequest, build_report, row_names
from phoneservice.registry import Registry
from phoneservice.services.report_cache import CACHE_FROM_ROWS, ReportCache, ReportKey
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
        cache: ReportCache | None = None,
    ) -> None:
        self.sessions = sessions
        self.registry = registry
        self.clock = clock
        self.cache = cache
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

    def size(self, request: ReportRequest) -> ReportSize:
        """The report's size; ``ReportTooLarge`` over the limit (domain/reports/limits.py)."""
        units = len(self.registry.units)
        return check_size(request.first, request.last, request.by, units, request.unit is not None)

    def report(
        self,
        request: ReportRequest,
        scope: frozenset[str] | None = None,
        *,
        limited: bool = True,
    ) -> Report:
        """The report asked for by a viewer of the units ``scope`` (None: every unit).

        ``UnknownUnitError`` for a unit the registry lacks; ``ReportTooLarge`` over the
        size limit unless ``limited`` is False (the command line). Heavy reports come
        from the cache when it holds them.
        """
        if request.unit is not None:
            self.registry.unit(request.unit)
        if not limited:
            return self._compute(request)
        size = self.size(request)
        if self.cache is None or size.rows < CACHE_FROM_ROWS:
            return self._compute(request)
        key = ReportKey(request, scope, id(self.registry))
        found = self.cache.get(key, self.registry)
        if found is None:
            found = self._compute(request)
            self.cache.put(key, self.registry, found)
        return found

    def _compute(self, request: ReportRequest) -> Report:
        """The report read from the database now."""
        tz, now = self.registry.timezone, self.clock()
        parts = periods(request.first, request.last, request.by, tz)
        with self.sessions() as session:
            data = ReportRepository(session).data(parts, request.unit, now, request.passes)
        names = {unit.id: unit.name for unit in self.registry.units.values()}
        rows = row_names(names, data, request.unit)
        return build_report(request, parts, rows, data, self.parameters(), now.astimezone(tz))
