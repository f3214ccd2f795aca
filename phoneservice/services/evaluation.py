"""The service evaluation for the council (SPEC §13) as a use case.

:class:`EvaluationService` asks the reports for the period (whole, and by month for the
trend: calls and callbacks only), for the previous period of the same length, and the
staffing roll-up for the period's load cells, and hands them with each unit's goals to
the domain's pure ``evaluate``. Every door (page, PDF, JSON, command line) shows what it
returns. The web asks for a limited evaluation (the report size limit of
:mod:`phoneservice.domain.reports.limits`: two years by month for every unit stays well
under it); the command line for an unlimited one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime

from phoneservice.domain.evaluation.evaluate import evaluate, previous_period
from phoneservice.domain.evaluation.model import Evaluation, Goals, LoadCell
from phoneservice.domain.reports.periods import ReversedRange
from phoneservice.domain.reports.report import ReportRequest
from phoneservice.registry import Registry
from phoneservice.services.reports import ReportService

Clock = Callable[[], datetime]
# What the evaluation reads of the reports: the whole period without withheld numbers (it
# does not show them), and the months of the trend with the calls and callbacks only.
WHOLE = ("calls", "closed_hours", "callbacks")
MONTHS = ("calls", "callbacks")
Loads = Callable[[date, date, str | None], list[LoadCell]]
GoalsOf = Callable[[str | None], Goals]


def registry_goals(registry: Registry) -> GoalsOf:
    """The goals of each unit (None: the total): the unit's own, else the registry's."""

    def goals_of(unit: str | None) -> Goals:
        found = registry.units.get(unit or "")
        return registry.goals if found is None else found.goals

    return goals_of


class EvaluationService:
    """Evaluations over one registry: the reports, the load cells and the goals."""

    def __init__(
        self,
        reports: ReportService,
        loads: Loads,
        registry: Registry,
        clock: Clock,
        goals_of: GoalsOf | None = None,
    ) -> None:
        self.reports, self.loads, self.registry, self.clock = reports, loads, registry, clock
        self.goals_of = goals_of or registry_goals(registry)

    def evaluation(
        self,
        first: date,
        last: date,
        unit: str | None,
        scope: frozenset[str] | None = None,
        *,
        limited: bool = True,
    ) -> Evaluation:
        """The evaluation of ``first``-``last`` (inclusive) against the period before it.

        ``ReversedRange`` (and the reports' other ``ReportError``) for a bad range,
        ``UnknownUnitError`` for a unit the registry lacks, ``ReportTooLarge`` over the
        size limit unless ``limited`` is False (the command line).
        """
        if last < first:
            raise ReversedRange(f"the range ends ({last}) before it starts ({first})")
        before_first, before_last = previous_period(first, last)
        whole = self.reports.report(
            ReportRequest(first, last, unit, passes=WHOLE), scope, limited=limited
        )
        months = ReportRequest(first, last, unit, by="month", passes=MONTHS)
        this = replace(self.reports.report(months, scope, limited=limited), whole=whole.whole)
        previous = self.reports.report(
            ReportRequest(before_first, before_last, unit, passes=WHOLE), scope, limited=limited
        )
        cells = self.loads(first, last, unit)
        now = self.clock().astimezone(self.registry.timezone)
        return evaluate(this, previous, cells, self.goals_of, self.registry.name, now)
