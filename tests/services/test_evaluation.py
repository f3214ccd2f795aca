"""``EvaluationService``: the previous period, what it asks the reports, the size limit.

The evaluation's figures are the domain's (tests/domain/evaluation); here the use case
is checked on a real database: which two reports it reads, and that the period before is
the same number of days ending the day before, across leap days.
"""

from __future__ import annotations

from datetime import date

import pytest

from phoneservice.domain.evaluation.evaluate import previous_period
from phoneservice.domain.reports.limits import ReportTooLarge
from phoneservice.domain.reports.periods import ReversedRange
from phoneservice.registry import Registry, UnknownUnitError
from phoneservice.services.evaluation import EvaluationService, registry_goals
from phoneservice.services.reports import ReportService
from tests.evaluation_data import GOALS, fill_months, stored_loads, with_goals
from tests.services.test_reports import REPORTED_AT, Office, fill_week
from tests.services.test_reports import office as office  # the fixture


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        # one day: the day before
        (date(2026, 3, 1), date(2026, 3, 1), (date(2026, 2, 28), date(2026, 2, 28))),
        # a month of 31 days: the 31 days before, across a 28-day February
        (date(2026, 3, 1), date(2026, 3, 31), (date(2026, 1, 29), date(2026, 2, 28))),
        # the leap day is one of the days before
        (date(2024, 3, 1), date(2024, 3, 31), (date(2024, 1, 30), date(2024, 2, 29))),
        # two whole years with a leap year (731 days): the 731 days before
        (date(2024, 1, 1), date(2025, 12, 31), (date(2021, 12, 31), date(2023, 12, 31))),
        # two whole years without one (730 days): the 730 days before hold 29 February 2024
        (date(2026, 1, 1), date(2027, 12, 31), (date(2024, 1, 2), date(2025, 12, 31))),
        # the year from 29 February
        (date(2024, 2, 29), date(2025, 2, 27), (date(2023, 3, 1), date(2024, 2, 28))),
    ],
)
def test_the_previous_period_has_as_many_days_and_ends_the_day_before(
    first: date, last: date, expected: tuple[date, date]
) -> None:
    found = previous_period(first, last)
    assert found == expected
    assert (found[1] - found[0]).days == (last - first).days
    assert (first - found[1]).days == 1


def test_a_reversed_range_is_refused(office: Office) -> None:
    with pytest.raises(ReversedRange):
        service(office).evaluation(date(2026, 3, 2), date(2026, 3, 1), None)


def service(office: Office, registry: Registry | None = None) -> EvaluationService:
    """The evaluation over the office's reports, with the doors' load cells."""
    found = registry or office.registry
    reports = ReportService(office.reports.sessions, found, office.clock)
    return EvaluationService(reports, stored_loads(office), found, office.clock)


def test_the_evaluation_compares_the_period_by_month_with_the_one_before(office: Office) -> None:
    fill_months(office)
    fill_week(office)
    office.clock.now = REPORTED_AT
    found = service(office, with_goals(office.registry)).evaluation(
        date(2025, 11, 1), date(2026, 10, 31), None
    )
    assert (found.previous_first, found.previous_last) == (date(2024, 11, 1), date(2025, 10, 31))
    assert found.municipality == office.registry.name
    total = found.total
    assert [m.first for m in total.trend][:3] == [
        date(2025, 11, 1),
        date(2025, 12, 1),
        date(2026, 1, 1),
    ]
    assert len(total.trend) == 12
    assert sum(m.calls for m in total.trend) == total.calls
    assert total.previous_calls > 0  # the previous period holds calls from 2025
    (answer, *_) = total.goals
    assert answer.key == "answer_rate" and answer.target == GOALS.answer_rate
    jobcenter = next(u for u in found.units if u.unit == "jobcenter")
    measured = [h for h in jobcenter.staffing if h.handling_s is not None]
    assert measured and all(h.needed_erlang_c for h in measured)
    # an hour with only missed calls has no handling time: no agents can be computed
    assert all(h.needed_erlang_c is None for h in jobcenter.staffing if h.handling_s is None)
    assert found.generated_at.utcoffset() is not None


def test_one_unit_is_asked_for_by_name(office: Office) -> None:
    fill_week(office)
    found = service(office).evaluation(date(2026, 11, 16), date(2026, 11, 20), "jobcenter")
    assert [u.unit for u in found.units] == ["jobcenter"]
    with pytest.raises(UnknownUnitError):
        service(office).evaluation(date(2026, 11, 16), date(2026, 11, 20), "nobody")


def test_without_goals_in_the_registry_no_goal_has_a_target(office: Office) -> None:
    fill_week(office)
    goals_of = registry_goals(office.registry)
    assert goals_of(None).answer_rate is None and goals_of("jobcenter").service_level is None
    found = service(office).evaluation(date(2026, 11, 16), date(2026, 11, 20), None)
    assert all(goal.target is None and goal.met is None for goal in found.total.goals)


def test_two_years_of_every_unit_is_within_the_web_limit(shipped: Registry, office: Office) -> None:
    # 24 months × 30 units is 720 rows, well under the 2,000 rows a web report may have
    evaluations = service(office, shipped)
    found = evaluations.evaluation(date(2025, 1, 1), date(2026, 12, 31), None, limited=True)
    assert len(found.total.trend) == 24  # asked for every unit, not refused as too large


def test_the_web_limit_still_holds_over_a_decade_by_month(
    shipped: Registry, office: Office
) -> None:
    evaluations = service(office, shipped)
    with pytest.raises(ReportTooLarge):
        evaluations.evaluation(date(2017, 1, 1), date(2026, 12, 31), None, limited=True)
    found = evaluations.evaluation(date(2017, 1, 1), date(2026, 12, 31), None, limited=False)
    assert len(found.total.trend) == 120
