"""The evaluation, hand-counted: reports built by the real ``build_report`` from cells.

January and February 2026 (59 days, split by month) against the 59 days before. Every
expected number below is counted by hand from the cells:

- ``borgerservice`` keeps every call goal: 500 of 520 answered (short abandons apart),
  all within T, p90 30 s; 29 of 30 callbacks on time (few tasks: the 95 % goal is inside
  the interval, so it is *uncertain*).
- ``jobcenter`` misses them all: 100 of 200 answered, every answer after 200 s.
- ``ppr`` has ten calls: 9 of 10 answered meets 90 % but is uncertain.
- ``byggesag`` had calls only in the previous period: shown, every figure of this period
  None and ``met`` None.
- ``tandplejen`` had no calls at all: not shown.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

import pytest

from phoneservice.domain.calls.records import ABANDONED, ANSWERED, CLOSED
from phoneservice.domain.evaluation.definitions import DEFINITIONS, definitions
from phoneservice.domain.evaluation.erlang import agents_needed_a
from phoneservice.domain.evaluation.evaluate import (
    CONFIDENT_FROM,
    evaluate,
    previous_period,
    wilson,
)
from phoneservice.domain.evaluation.model import (
    GOAL_KEYS,
    CallbackSummary,
    DemandHour,
    Evaluation,
    Goals,
    LoadCell,
    UnitEvaluation,
)
from phoneservice.domain.reports.cells import CallbackCell, CallCell, HourCell, ReportData
from phoneservice.domain.reports.figures import ReportParameters
from phoneservice.domain.reports.periods import periods
from phoneservice.domain.reports.report import Report, ReportRequest, build_report, row_names

TZ = ZoneInfo("Europe/Copenhagen")
NOW = datetime(2026, 3, 2, 8, tzinfo=UTC)
FIRST, LAST = date(2026, 1, 1), date(2026, 2, 28)
NAMES = {
    "borgerservice": "Borgerservice",
    "jobcenter": "Jobcenter",
    "ppr": "PPR",
    "byggesag": "Byggesag",
    "tandplejen": "Tandplejen",
}
PARAMS = ReportParameters(TZ, 5, {"borgerservice": 60, "jobcenter": 60, "ppr": 30})
DEFAULTS = Goals(0.9, 0.8, 0.95, 120)
GOALS = {None: DEFAULTS, "ppr": Goals(0.9, 0.8, 0.95, 60)}
STATUSES = ("on_time", "late", "overdue", "pending", "unreachable", "cancelled")


def _calls(period: int, unit: str, outcome: str, count: int, **kw: object) -> CallCell:
    """``count`` calls during phone hours (unless said otherwise)."""
    short, during, wait = kw.get("short", False), kw.get("during", True), kw.get("wait")
    return CallCell(period, unit, outcome, bool(short), bool(during), wait, count)


def _callbacks(period: int, unit: str, **counts: int) -> CallbackCell:
    """Callback tasks of one period counted per status; all but pending acknowledged."""
    statuses = {status: counts.get(status, 0) for status in STATUSES}
    return CallbackCell(period, unit, statuses, sum(statuses.values()) - statuses["pending"])


def _report(first: date, last: date, data: ReportData, by: str | None) -> Report:
    """The report the domain builds from ``data``."""
    request = ReportRequest(first, last, by=by)
    parts = periods(first, last, by, TZ)
    return build_report(request, parts, row_names(NAMES, data), data, PARAMS, NOW)


THIS = ReportData(
    calls=[
        _calls(0, "borgerservice", ANSWERED, 300, wait=10),
        _calls(1, "borgerservice", ANSWERED, 200, wait=30),
        _calls(1, "borgerservice", ABANDONED, 20),
        _calls(1, "borgerservice", ABANDONED, 10, short=True),
        _calls(0, "borgerservice", CLOSED, 20, during=False),
        _calls(1, "borgerservice", CLOSED, 11, during=False),
        _calls(0, "jobcenter", ANSWERED, 100, wait=200),
        _calls(0, "jobcenter", ABANDONED, 100),
        _calls(1, "ppr", ANSWERED, 9, wait=5),
        _calls(1, "ppr", ABANDONED, 1),
    ],
    closed_hours=[
        HourCell(0, "borgerservice", 15, 12),  # Monday 15-16
        HourCell(0, "borgerservice", 39, 4),  # Tuesday 15-16
        HourCell(1, "borgerservice", 39, 4),
        HourCell(1, "borgerservice", 16, 8),  # Monday 16-17: ties Tuesday 15-16, comes first
        HourCell(1, "borgerservice", 100, 3),
    ],
    withheld=[],
    callbacks=[
        _callbacks(0, "borgerservice", on_time=20),
        _callbacks(1, "borgerservice", on_time=9, late=1),
        _callbacks(0, "jobcenter", on_time=50, late=30, unreachable=10, overdue=5, pending=5),
    ],
    ack_medians={(None, "borgerservice"): 3600.0, (None, "jobcenter"): 90000.0},
)
PREVIOUS = ReportData(
    calls=[
        _calls(0, "borgerservice", ANSWERED, 100, wait=100),
        _calls(0, "byggesag", ANSWERED, 4, wait=20),
    ],
    closed_hours=[],
    withheld=[],
    callbacks=[],
    ack_medians={},
)
LOADS = [
    # Monday 10-11 on 8 Mondays: 80 calls of 180 s talk, 4 gave up after 2 400 s in all.
    LoadCell("borgerservice", 10, 8, 80, 76, 76, 76 * 180, 2400, 4, 16),
    LoadCell("borgerservice", 11, 8, 8, 8, 0, 0, 0, 0, 8),  # no talk time known
]


def _evaluation(this: ReportData = THIS, previous: ReportData = PREVIOUS) -> Evaluation:
    """The evaluation of the hand-made period against the previous one."""
    before = previous_period(FIRST, LAST)
    return evaluate(
        _report(FIRST, LAST, this, "month"),
        _report(*before, previous, None),
        LOADS,
        GOALS,
        "Stevns Kommune",
        NOW,
    )


def _unit(evaluation: Evaluation, unit: str) -> UnitEvaluation:
    """One unit of an evaluation."""
    return next(u for u in evaluation.units if u.unit == unit)


def _goal(unit: UnitEvaluation, key: str):
    """One goal result of a unit."""
    return next(g for g in unit.goals if g.key == key)


def test_the_previous_period_is_as_long_and_ends_the_day_before():
    assert previous_period(FIRST, LAST) == (date(2025, 11, 3), date(2025, 12, 31))
    evaluation = _evaluation()
    assert (evaluation.first, evaluation.last) == (FIRST, LAST)
    assert (evaluation.previous_first, evaluation.previous_last) == previous_period(FIRST, LAST)
    assert evaluation.municipality == "Stevns Kommune" and evaluation.generated_at == NOW


def test_units_with_calls_in_either_period_are_shown_in_the_report_s_order():
    evaluation = _evaluation()
    assert [u.unit for u in evaluation.units] == ["borgerservice", "jobcenter", "ppr", "byggesag"]
    assert evaluation.total.unit is None and evaluation.total.name == "I alt"


def test_a_unit_that_keeps_its_goals():
    unit = _unit(_evaluation(), "borgerservice")
    assert (unit.calls, unit.previous_calls, unit.threshold_s) == (561, 100, 60)
    answer = _goal(unit, "answer_rate")
    assert answer.this.value == 500 / 520 and answer.this.basis == 520
    assert answer.this.low is None  # 520 calls: no interval
    assert answer.met is True and answer.uncertain is False
    level = _goal(unit, "service_level")
    assert (level.this.value, level.this.basis, level.met) == (1.0, 500, True)
    assert (level.previous.value, level.previous.basis) == (0.0, 100)  # 100 s > T
    wait = _goal(unit, "max_wait_p90_seconds")
    assert (wait.target, wait.this.value, wait.met, wait.this.low) == (120, 30.0, True, None)
    assert wait.previous.value == 100.0
    on_time = _goal(unit, "acknowledged_on_time")
    assert on_time.this.value == 29 / 30 and on_time.this.basis == 30
    assert on_time.met is True and on_time.uncertain is True  # 95 % inside the interval
    assert (on_time.this.low, on_time.this.high) == wilson(29, 30)


def test_a_unit_that_misses_its_goals():
    unit = _unit(_evaluation(), "jobcenter")
    met = {g.key: g.met for g in unit.goals}
    assert met == dict.fromkeys(GOAL_KEYS, False)
    answer = _goal(unit, "answer_rate")
    assert (answer.this.value, answer.this.basis) == (0.5, 200)
    assert answer.uncertain is False  # 90 % lies far above the interval
    assert answer.this.high is not None and answer.this.high < 0.6
    assert _goal(unit, "acknowledged_on_time").this.value == 50 / 95
    assert _goal(unit, "max_wait_p90_seconds").this.value == 200.0
    assert unit.previous_calls == 0 and _goal(unit, "answer_rate").previous.value is None
    assert unit.callbacks == CallbackSummary(100, 50, 30, 10, 10, 90000.0)


def test_few_calls_make_a_goal_uncertain():
    unit = _unit(_evaluation(), "ppr")
    answer = _goal(unit, "answer_rate")
    assert (answer.this.value, answer.this.basis, answer.met, answer.uncertain) == (
        0.9,
        10,
        True,
        True,
    )
    low, high = wilson(9, 10)
    assert (answer.this.low, answer.this.high) == (low, high)
    assert 0.59 < low < 0.6 and 0.98 < high < 0.99
    level = _goal(unit, "service_level")
    assert level.met is True and level.uncertain is True and level.this.high == 1.0
    wait = _goal(unit, "max_wait_p90_seconds")
    assert (wait.target, wait.met, wait.uncertain) == (60, True, False)  # its own goal
    on_time = _goal(unit, "acknowledged_on_time")
    assert (on_time.this.value, on_time.met, on_time.uncertain) == (None, None, False)


def test_a_unit_with_calls_only_before_shows_nothing_for_this_period():
    unit = _unit(_evaluation(), "byggesag")
    assert (unit.calls, unit.previous_calls) == (0, 4)
    assert all(g.this.value is None and g.met is None for g in unit.goals)
    assert _goal(unit, "service_level").previous.value == 1.0


def test_the_total_uses_the_default_goals_over_every_unit():
    total = _evaluation().total
    answer = _goal(total, "answer_rate")
    assert answer.target == 0.9
    assert Fraction(answer.this.value).limit_denominator(1000) == Fraction(609, 730)
    assert answer.this.basis == 730 >= CONFIDENT_FROM and answer.met is False
    assert _goal(total, "max_wait_p90_seconds").target == 120
    assert total.calls == 561 + 200 + 10 and total.previous_calls == 104
    assert total.staffing == ()


def test_the_trend_has_one_month_per_month_of_the_period():
    unit = _unit(_evaluation(), "borgerservice")
    january, february = unit.trend
    assert (january.first, january.last, january.calls) == (
        date(2026, 1, 1),
        date(2026, 1, 31),
        320,
    )
    assert (january.answer_rate, january.service_level, january.wait_p90_s) == (1.0, 1.0, 10.0)
    assert january.acknowledged_on_time == 1.0
    assert (february.first, february.last, february.calls) == (
        date(2026, 2, 1),
        date(2026, 2, 28),
        241,
    )
    assert february.answer_rate == 200 / 220 and february.acknowledged_on_time == 0.9
    ppr_january = _unit(_evaluation(), "ppr").trend[0]
    assert (ppr_january.calls, ppr_january.answer_rate, ppr_january.wait_p90_s) == (0, None, None)


def test_demand_outside_phone_hours_names_the_three_busiest_hours_per_year():
    unit = _unit(_evaluation(), "borgerservice")
    assert len(unit.outside_hours) == 168 and sum(unit.outside_hours) == 31
    assert unit.top_hours == (
        DemandHour(15, 12, 12 * 365.25 / 59),
        DemandHour(16, 8, 8 * 365.25 / 59),
        DemandHour(39, 8, 8 * 365.25 / 59),
    )
    assert _unit(_evaluation(), "jobcenter").top_hours == ()


def test_staffing_per_hour_of_the_week_from_the_load_cells():
    unit = _unit(_evaluation(), "borgerservice")
    monday_ten, monday_eleven = unit.staffing
    assert (monday_ten.hour_of_week, monday_ten.hours) == (10, 8)
    assert (monday_ten.arrivals_per_hour, monday_ten.handling_s) == (10.0, 180.0)
    assert (monday_ten.patience_s, monday_ten.seen) == (600.0, 2.0)
    # A = 10/h × 180 s = 0.5 erlang. One agent: C = 0.5, SL = 1 - 0.5·e^(-0.5·60/180) = 0.58;
    # two: C = 0.1, SL = 1 - 0.1·e^(-1.5·60/180) = 0.94 ≥ 80 %.
    assert monday_ten.needed_erlang_c == 2
    assert monday_ten.needed_erlang_a == agents_needed_a(10, 180, 600, 60, 0.8)
    assert 1 <= monday_ten.needed_erlang_a <= 2
    assert (monday_eleven.handling_s, monday_eleven.patience_s) == (None, None)
    assert (monday_eleven.needed_erlang_c, monday_eleven.needed_erlang_a) == (None, None)
    assert monday_eleven.seen == 1.0
    assert _unit(_evaluation(), "jobcenter").staffing == ()


def test_an_empty_period_has_no_figures_and_no_verdicts():
    empty = ReportData([], [], [], [], {})
    evaluation = _evaluation(empty, empty)
    assert evaluation.units == ()
    total = evaluation.total
    assert total.calls == 0 and total.previous_calls == 0
    assert [g.key for g in total.goals] == list(GOAL_KEYS)  # every goal has a target
    assert all(g.this.value is None and g.this.basis == 0 for g in total.goals)
    assert all(g.met is None and g.uncertain is False for g in total.goals)
    assert [m.calls for m in total.trend] == [0, 0]
    assert all(m.answer_rate is None and m.wait_p90_s is None for m in total.trend)
    assert total.top_hours == () and sum(total.outside_hours) == 0
    assert total.callbacks == CallbackSummary(0, 0, 0, 0, 0, None)


def test_goals_may_be_a_function_and_a_goal_without_target_has_no_verdict():
    before = previous_period(FIRST, LAST)
    evaluation = evaluate(
        _report(FIRST, LAST, THIS, "month"),
        _report(*before, PREVIOUS, None),
        [],
        lambda unit: Goals(answer_rate=0.5) if unit == "jobcenter" else Goals(),
        "Stevns Kommune",
        NOW,
    )
    jobcenter = _unit(evaluation, "jobcenter")
    assert _goal(jobcenter, "answer_rate").met is True  # 50 % of 200 meets a 50 % goal
    level = _goal(jobcenter, "service_level")
    assert (level.target, level.met) == (None, None)
    assert _unit(evaluation, "borgerservice").staffing == ()  # no load cells given


def test_calls_without_a_unit_get_their_own_row_only_when_there_are_some():
    data = ReportData([*THIS.calls, _calls(0, None, ANSWERED, 5, wait=1)], [], [], [], {})
    evaluation = _evaluation(data, PREVIOUS)
    no_unit = evaluation.units[-1]
    assert (no_unit.unit, no_unit.name, no_unit.calls) == (None, "Uden enhed", 5)
    assert [m.calls for m in no_unit.trend] == [5, 0]  # its own months, not the total's


@pytest.mark.parametrize("language", ["da", "en"])
def test_every_figure_has_a_filled_definition(language):
    texts = definitions(language)
    assert set(texts) == set(DEFINITIONS) and set(GOAL_KEYS) <= set(texts)
    assert all(text and "%(" not in text for text in texts.values())
    assert "400" in texts["interval"]
