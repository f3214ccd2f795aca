"""The reports of SPEC §7 against figures counted by hand, on SQLite and PostgreSQL.

The data set is stored the way production stores it: calls through ``CallService.store``
(which opens and closes callbacks in the same transaction), staff actions through
``CallbackService`` with a clock that moves. Every expected figure below is written by
hand, with how it was counted.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from phoneservice.domain.calls.records import CallRecord
from phoneservice.domain.reports.percentiles import percentile
from phoneservice.domain.reports.periods import ReportError, periods
from phoneservice.domain.reports.report import Report, ReportRequest
from phoneservice.domain.reports.weeks import hour_of_week
from phoneservice.present.reports import csv_table, report_shape
from phoneservice.registry import Registry, UnknownUnitError
from phoneservice.services.callbacks import CallbackService
from phoneservice.services.calls import CallService
from phoneservice.services.reports import ReportService
from phoneservice.storage.engine import create_engine_for, session_factory
from tests.conftest import TZ, Clock, at
from tests.domain.test_callbacks_domain import call as citizen_call
from tests.services.test_callbacks import lab_registry
from tests.storage.direct_reports import offset_changes

WEEK = ReportRequest(date(2026, 11, 16), date(2026, 11, 20))  # Monday to Friday
REPORTED_AT = at("2026-11-23T12:00")  # Monday: tasks due Monday 15:00 are not due yet
NUMBERS = {f"N{n}": f"+452000{n:04d}" for n in range(1, 13)}  # twelve distinct citizens


@dataclass
class Office:
    """The services of one test on one database, with the clock they share."""

    calls: CallService
    callbacks: CallbackService
    reports: ReportService
    clock: Clock
    registry: Registry
    url: str
    _next: int = 0

    def store(self, now: str, *calls: tuple[Any, ...]) -> None:
        """Store calls ``(arrival, unit, outcome, wait, number, during, short)`` at ``now``."""
        self.clock.now = at(now)
        self.calls.store([self.record(*spec) for spec in calls])

    def record(
        self,
        arrival: str,
        unit: str | None,
        outcome: str,
        wait: int | None,
        number: str | None,
        during: bool = True,
        short: bool = False,
    ) -> CallRecord:
        """A call with a fresh uniqueid."""
        self._next += 1
        uid, arrived = f"1790000000.{self._next}", at(arrival)
        found = citizen_call(outcome, uniqueid=uid, linkedid=uid, arrived_at=arrived)
        return replace(
            found,
            unit=unit,
            queue=unit,
            caller_number=NUMBERS.get(number or ""),
            during_hours=during,
            short_abandon=short,
            wait_s=wait,
            ended_at=arrived + timedelta(minutes=2),
        )

    def task(self, number: str) -> int:
        """The id of the (only) task of a number."""
        (found,) = [
            v.callback.id
            for v in self.callbacks.list()
            if v.callback.caller_number == NUMBERS[number]
        ]
        assert found is not None
        return found

    def attempt(self, now: str, number: str, outcome: str) -> None:
        """Anne tries to call the citizen back at ``now``."""
        self.clock.now = at(now)
        self.callbacks.attempt(self.task(number), "anne", outcome)

    def report(self, request: ReportRequest = WEEK) -> Report:
        """The report at REPORTED_AT."""
        self.clock.now = REPORTED_AT
        return self.reports.report(request)


def build_office(url: str, registry: Registry | None = None) -> Iterator[Office]:
    """Empty services over the database at ``url``."""
    engine = create_engine_for(url)
    sessions = session_factory(engine)
    registry = registry or lab_registry()
    clock = Clock(REPORTED_AT)
    callbacks = CallbackService(sessions, registry, clock)
    reports = ReportService(sessions, registry, clock)
    calls = CallService(sessions, callbacks, registry.timezone)
    yield Office(calls, callbacks, reports, clock, registry, url)
    engine.dispose()


@pytest.fixture
def office(database_url: str) -> Iterator[Office]:
    """The lab registry (open around the clock, Monday-Friday working days) on an empty DB."""
    yield from build_office(database_url)


def fill_week(office: Office) -> None:
    """The fixed data set: Monday 16 to Friday 20 November 2026, and calls just outside.

    Callbacks: #1..#6 below are the tasks in the order they open. Deadlines are the end
    of the next working day (15:00). Numbers N1..N12 are distinct citizens.
    """
    J, B = "jobcenter", "borgerservice"
    office.store(
        "2026-11-16T11:06",
        ("2026-11-16T10:00", J, "answered", 20, "N1"),
        ("2026-11-16T10:05", J, "answered", 60, "N2"),  # exactly T: within
        ("2026-11-16T10:10", J, "answered", 61, "N3"),  # one second over T
        ("2026-11-16T11:00", J, "abandoned", 30, "N4"),  # task #1, due Tue 15:00
        ("2026-11-16T11:05", J, "abandoned", 2, "N5", True, True),  # short; task #2
    )
    office.attempt("2026-11-16T13:00", "N4", "no_answer")  # #1 acknowledged after 2 h
    office.store("2026-11-17T09:30", ("2026-11-17T09:00", J, "timeout", 120, None))  # withheld
    office.attempt("2026-11-17T09:30", "N4", "reached")  # #1 done before its deadline
    office.store("2026-11-17T20:31", ("2026-11-17T20:30", J, "closed", None, "N6", False))  # #3
    office.clock.now = at("2026-11-18T08:00")
    office.callbacks.cancel(office.task("N6"), "anne", "dublet")  # #3 cancelled after 11.5 h
    office.store(
        "2026-11-18T18:01",
        ("2026-11-18T09:00", J, "answered", 15, "N5"),  # N5 gets through: #2 done, late
        ("2026-11-18T12:00", None, "abandoned", 40, "N10"),  # no unit: no task
        ("2026-11-18T18:00", J, "answered", 10, "N12", False),  # answered outside hours
    )
    office.store(
        "2026-11-19T10:31",
        ("2026-11-19T10:00", B, "answered", 0, "N7"),
        ("2026-11-19T10:30", B, "unknown", None, "N8"),  # task #4
    )
    office.attempt("2026-11-19T11:00", "N8", "wrong_number")  # #4 unreachable after 30 min
    office.store("2026-11-19T14:01", ("2026-11-19T14:00", J, "abandoned", 50, "N11"))  # #6
    office.attempt("2026-11-20T09:00", "N11", "no_answer")  # #6 acknowledged, still open
    office.store(
        "2026-11-20T12:01",
        ("2026-11-20T07:15", B, "closed", None, None, False),  # withheld, closed
        ("2026-11-20T12:00", B, "unanswered", None, "N9"),  # task #5, due Mon 23 15:00
    )
    office.store(
        "2026-11-21T10:01",
        ("2026-11-21T10:00", J, "answered", 5, "N2"),  # Saturday: after the range
        ("2026-11-15T23:59:59", J, "answered", 5, "N3"),  # Sunday before: outside too
    )


# Hours of the week: Monday 00:00-01:00 is 0, so Tuesday 20:xx is 1*24+20 = 44,
# Wednesday 18:xx is 2*24+18 = 66 and Friday 07:xx is 4*24+7 = 103.
EXPECTED_CALLS = {
    # Jobcenter: J1-J5 Monday, J6-J7 Tuesday, N5's answer and N12 Wednesday, N11 Thursday.
    "jobcenter": {
        "calls": 10,
        "answered": 5,  # waits 20, 60, 61 (Monday), 15 and 10 (Wednesday)
        "abandoned": 2,  # N4 (30 s) and N11 (50 s)
        "short_abandons": 1,  # N5 after 2 s
        "timeouts": 1,
        "closed": 1,
        "unanswered": 0,
        "unknown": 0,
        "calls_during_hours": 8,  # all but the closed call and N12 answered outside hours
        "answered_during_hours": 4,
        "short_abandons_during_hours": 1,
        "answer_rate": 0.5714,  # 4 ÷ (8 − 1)
        "answered_with_wait": 5,
        "answered_within_threshold": 4,  # 10, 15, 20, 60 ≤ 60; 61 is not
        "service_level": 0.8,  # 4 ÷ 5
        "wait_avg_s": 33.2,  # (20 + 60 + 61 + 15 + 10) ÷ 5 = 166 ÷ 5
        "wait_p90_s": 60.6,  # [10 15 20 60 61]: rank 0.9 × 4 = 3.6 → 60 + 0.6 × (61 − 60)
        "unacknowledgeable": 1,  # the withheld timeout
    },
    "borgerservice": {
        "calls": 4,
        "answered": 1,
        "abandoned": 0,
        "short_abandons": 0,
        "timeouts": 0,
        "closed": 1,
        "unanswered": 1,
        "unknown": 1,
        "calls_during_hours": 3,
        "answered_during_hours": 1,
        "short_abandons_during_hours": 0,
        "answer_rate": 0.3333,  # 1 ÷ 3
        "answered_with_wait": 1,
        "answered_within_threshold": 1,
        "service_level": 1.0,
        "wait_avg_s": 0.0,
        "wait_p90_s": 0.0,
        "unacknowledgeable": 1,  # the withheld closed call (outside_hours = "callback")
    },
    "boern-laering": {  # no calls: counts 0, every ratio null
        **dict.fromkeys(
            [
                "calls",
                "answered",
                "abandoned",
                "short_abandons",
                "timeouts",
                "closed",
                "unanswered",
                "unknown",
                "calls_during_hours",
                "answered_during_hours",
                "short_abandons_during_hours",
                "answered_with_wait",
                "answered_within_threshold",
                "unacknowledgeable",
            ],
            0,
        ),
        **dict.fromkeys(["answer_rate", "service_level", "wait_avg_s", "wait_p90_s"], None),
    },
    None: {  # the abandoned call that matched no unit
        "calls": 1,
        "answered": 0,
        "abandoned": 1,
        "calls_during_hours": 1,
        "answer_rate": 0.0,  # 0 ÷ 1: a real zero
        "service_level": None,  # nothing answered
        "wait_avg_s": None,
    },
    "total": {
        "calls": 15,  # 10 + 4 + 1
        "answered": 6,
        "abandoned": 3,
        "short_abandons": 1,
        "timeouts": 1,
        "closed": 2,
        "unanswered": 1,
        "unknown": 1,
        "calls_during_hours": 12,  # 8 + 3 + 1
        "answered_during_hours": 5,
        "short_abandons_during_hours": 1,
        "answer_rate": 0.4545,  # 5 ÷ (12 − 1)
        "answered_with_wait": 6,
        "answered_within_threshold": 5,
        "service_level": 0.8333,  # 5 ÷ 6
        "wait_avg_s": 27.7,  # 166 ÷ 6 = 27.67
        "wait_p90_s": 60.5,  # [0 10 15 20 60 61]: rank 4.5 → 60.5
        "unacknowledgeable": 2,
    },
}
EXPECTED_CALLBACKS = {
    # #1 on time, #2 late (N5 got through Wednesday), #3 cancelled, #6 open past Friday 15:00.
    "jobcenter": {
        "created": 4,
        "on_time": 1,
        "late": 1,
        "overdue": 1,
        "pending": 0,
        "unreachable": 0,
        "cancelled": 1,
        "on_time_rate": 0.3333,  # 1 ÷ (4 − 0 pending − 1 cancelled)
        "acknowledged": 4,
        # #1 7,200 s (first attempt), #2 165,315 s (Mon 11:05 → Wed 09:00:15, the answer),
        # #3 41,400 s (cancelled), #6 68,400 s (attempt): exact median 54,900; from the
        # buckets (docs/reports.md) the middle two are their buckets' midpoints:
        # (39,900 + 43,860) ÷ 2 = 41,880 and (64,140 + 70,500) ÷ 2 = 67,320 → 54,600
        "ack_median_s": 54600.0,
    },
    "borgerservice": {  # #4 unreachable (wrong number), #5 open, due Monday 15:00
        "created": 2,
        "on_time": 0,
        "late": 0,
        "overdue": 0,
        "pending": 1,
        "unreachable": 1,
        "cancelled": 0,
        "on_time_rate": 0.0,  # 0 ÷ (2 − 1 pending)
        "acknowledged": 1,
        "ack_median_s": 1950.0,  # #4: 30 min, in the bucket 30-35 min: its midpoint
    },
    "boern-laering": {
        **dict.fromkeys(
            [
                "created",
                "on_time",
                "late",
                "overdue",
                "pending",
                "unreachable",
                "cancelled",
                "acknowledged",
            ],
            0,
        ),
        "on_time_rate": None,
        "ack_median_s": None,
    },
    None: {  # calls without unit open no task: nothing to count, no median
        **dict.fromkeys(
            [
                "created",
                "on_time",
                "late",
                "overdue",
                "pending",
                "unreachable",
                "cancelled",
                "acknowledged",
            ],
            0,
        ),
        "on_time_rate": None,
        "ack_median_s": None,
    },
    "total": {
        "created": 6,
        "on_time": 1,
        "late": 1,
        "overdue": 1,
        "pending": 1,
        "unreachable": 1,
        "cancelled": 1,
        "on_time_rate": 0.25,  # 1 ÷ (6 − 1 − 1)
        "acknowledged": 5,
        # [1,800 7,200 41,400 68,400 165,315]: 41,400, in the bucket 39,900-43,860
        "ack_median_s": 41880.0,
    },
}
EXPECTED_HOURS = {
    "jobcenter": {44: 1, 66: 1},
    "borgerservice": {103: 1},
    "total": {44: 1, 66: 1, 103: 1},
}


def rows_by_unit(shape: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    """The rows of a report shape by unit id, the total as ``"total"``."""
    return {**{row["unit"]: row for row in shape["units"]}, "total": shape["total"]}


def hours_of(row: dict[str, Any]) -> dict[int, int]:
    """The non-zero hours of week of a row."""
    flat = [n for day in row["calls"]["closed_by_hour_of_week"] for n in day]
    return {hour: n for hour, n in enumerate(flat) if n}


@pytest.fixture
def week(office: Office) -> dict[str, Any]:
    """The shape of the report over the fixed week."""
    fill_week(office)
    return report_shape(office.report())


@pytest.mark.parametrize("unit", list(EXPECTED_CALLS), ids=str)
def test_call_figures_are_the_hand_counted_ones(week: dict[str, Any], unit: str | None) -> None:
    row = rows_by_unit(week)[unit]
    assert {k: row["calls"][k] for k in EXPECTED_CALLS[unit]} == EXPECTED_CALLS[unit]


@pytest.mark.parametrize("unit", list(EXPECTED_CALLBACKS), ids=str)
def test_callback_figures_are_the_hand_counted_ones(week: dict[str, Any], unit: str) -> None:
    assert rows_by_unit(week)[unit]["callbacks"] == EXPECTED_CALLBACKS[unit]


@pytest.mark.parametrize("unit", list(EXPECTED_HOURS), ids=str)
def test_closed_hours_are_counted_by_local_hour_of_week(week: dict[str, Any], unit: str) -> None:
    assert hours_of(rows_by_unit(week)[unit]) == EXPECTED_HOURS[unit]


def test_rows_are_the_registry_units_then_calls_without_unit(week: dict[str, Any]) -> None:
    names = [(row["unit"], row["name"]) for row in week["units"]]
    assert names == [
        ("borgerservice", "Borgerservice"),
        ("jobcenter", "Jobcenter"),
        ("boern-laering", "Børn & Læring"),
        (None, "Uden enhed"),
    ]
    assert (week["total"]["unit"], week["total"]["name"], week["total"]["threshold_s"]) == (
        None,
        "I alt",
        60,
    )


def test_the_report_carries_its_definitions(week: dict[str, Any]) -> None:
    definitions = week["definitions"]
    assert (definitions["threshold_s"], definitions["short_abandon_s"]) == (60, 5)
    assert definitions["timezone"] == "Europe/Copenhagen"
    assert definitions["thresholds_s"] == {
        "borgerservice": 60,
        "jobcenter": 60,
        "boern-laering": 60,
    }
    assert "2026-11-16" in definitions["period"] and "2026-11-20" in definitions["period"]
    assert "aldrig som 0 %" in definitions["empty"]
    assert "5 sekunder" in definitions["figures"]["short_abandons"]
    figures = {"answer_rate", "service_level", "wait_p90_s", "ack_median_s", "on_time_rate"}
    assert figures | {"closed_by_hour_of_week", "unacknowledgeable"} <= set(definitions["figures"])
    assert (week["from"], week["to"], week["unit"], week["by"]) == (
        "2026-11-16",
        "2026-11-20",
        None,
        None,
    )
    assert week["generated_at"] == "2026-11-23T12:00:00+01:00"


def test_one_unit_is_its_own_total(office: Office) -> None:
    fill_week(office)
    shape = report_shape(office.report(replace(WEEK, unit="borgerservice")))
    (row,) = shape["units"]
    assert row["unit"] == "borgerservice"
    assert {k: v for k, v in shape["total"].items() if k not in ("unit", "name")} == {
        k: v for k, v in row.items() if k not in ("unit", "name")
    }
    assert shape["total"]["calls"]["calls"] == 4


def test_an_unknown_unit_is_refused(office: Office) -> None:
    with pytest.raises(UnknownUnitError):
        office.report(replace(WEEK, unit="nobody"))


def test_an_empty_period_shows_nulls_not_zero_percent(office: Office) -> None:
    fill_week(office)
    shape = report_shape(office.report(ReportRequest(date(2026, 1, 1), date(2026, 1, 31))))
    assert [row["unit"] for row in shape["units"]] == [
        "borgerservice",
        "jobcenter",
        "boern-laering",
    ]
    for row in [*shape["units"], shape["total"]]:
        calls, callbacks = row["calls"], row["callbacks"]
        assert (calls["calls"], callbacks["created"]) == (0, 0)
        rates = [calls[k] for k in ("answer_rate", "service_level", "wait_avg_s", "wait_p90_s")]
        assert [*rates, callbacks["on_time_rate"], callbacks["ack_median_s"]] == [None] * 6
        assert calls["closed_by_hour_of_week"] == [[0] * 24] * 7


def test_the_week_split_by_day_adds_up_to_the_week(office: Office) -> None:
    fill_week(office)
    report = office.report(replace(WEEK, by="day"))
    shape = report_shape(report)
    days = shape["periods"]
    assert [d["from"] for d in days] == [f"2026-11-{n}" for n in range(16, 21)]
    assert [d["total"]["calls"]["calls"] for d in days] == [5, 2, 3, 3, 2]
    assert sum(d["total"]["callbacks"]["created"] for d in days) == 6
    monday = rows_by_unit(days[0])["jobcenter"]
    # Monday: J1-J3 answered (20, 60, 61 s), N4 abandoned, N5 short: tasks #1 and #2.
    assert monday["calls"]["wait_p90_s"] == 60.8  # [20 60 61]: rank 1.8 → 60.8
    # (7,200 + 165,315) ÷ 2 exactly; from the buckets' midpoints (7,110 + 158,370) ÷ 2
    assert monday["callbacks"]["ack_median_s"] == 82740.0
    assert shape["total"] == report_shape(office.report())["total"]


def test_csv_tables_parse_and_hold_the_figures(office: Office) -> None:
    import csv
    import io

    fill_week(office)
    report = office.report()
    calls = list(csv.DictReader(io.StringIO(csv_table(report, "calls"))))
    assert [r["unit"] for r in calls] == ["borgerservice", "jobcenter", "boern-laering", "", ""]
    assert (calls[-1]["name"], calls[-1]["calls"], calls[-1]["answer_rate"]) == (
        "I alt",
        "15",
        "0.4545",
    )
    assert calls[2]["service_level"] == ""  # null is an empty field, never 0
    callbacks = list(csv.DictReader(io.StringIO(csv_table(report, "callbacks"))))
    assert callbacks[-1]["ack_median_s"] == "41880.0"
    hours = list(csv.reader(io.StringIO(csv_table(report, "closed_hours"))))
    assert hours[0][:4] == ["unit", "name", "weekday", "00"] and len(hours[0]) == 27
    assert len(hours) == 1 + 7 * 5
    friday_total = next(r for r in hours if r[1] == "I alt" and r[2] == "fri")
    assert friday_total[3 + 7] == "1"
    periods_ = list(csv.DictReader(io.StringIO(csv_table(report, "periods"))))
    assert periods_[-1]["callbacks_created"] == "6" and periods_[-1]["from"] == "2026-11-16"
    with pytest.raises(ValueError, match="no table"):
        csv_table(report, "nope")


# --------------------------------------------------------------- daylight saving time


def test_a_day_of_25_hours_is_one_local_day_and_its_hours_are_local(office: Office) -> None:
    """Sunday 2026-10-25: 02:00-03:00 occurs twice (CEST, then CET)."""
    C = "jobcenter"
    office.store(
        "2026-10-27T12:00",
        ("2026-10-24T23:30+02:00", C, "closed", None, None, False),  # Saturday 23 → 143
        ("2026-10-25T02:30+02:00", C, "closed", None, None, False),  # Sunday 02, first → 146
        ("2026-10-25T02:30+01:00", C, "closed", None, None, False),  # Sunday 02, again → 146
        ("2026-10-25T03:30+01:00", C, "closed", None, None, False),  # Sunday 03 → 147
        ("2026-10-25T23:30+01:00", C, "closed", None, None, False),  # Sunday 23 → 167
        ("2026-10-26T00:30+01:00", C, "closed", None, None, False),  # Monday 00 (UTC: 25th)
    )
    request = ReportRequest(date(2026, 10, 24), date(2026, 10, 26), by="day")
    shape = report_shape(office.report(request))
    assert [d["total"]["calls"]["calls"] for d in shape["periods"]] == [1, 4, 1]
    assert hours_of(shape["total"]) == {0: 1, 143: 1, 146: 2, 147: 1, 167: 1}
    sunday = office.report(request).periods[1].period
    assert sunday.end.timestamp() - sunday.start.timestamp() == 25 * 3600  # same-zone - is wall


def test_the_spring_change_counts_local_hours(office: Office) -> None:
    """Sunday 2026-03-29: 02:00-03:00 does not exist."""
    C = "jobcenter"
    office.store(
        "2026-03-30T12:00",
        ("2026-03-29T01:30+01:00", C, "closed", None, None, False),  # Sunday 01 → 145
        ("2026-03-29T03:30+02:00", C, "closed", None, None, False),  # Sunday 03 → 147
    )
    shape = report_shape(office.report(ReportRequest(date(2026, 3, 29), date(2026, 3, 29))))
    assert hours_of(shape["total"]) == {145: 1, 147: 1}


# ------------------------------------------------------------------- pure definitions


@pytest.mark.parametrize(
    ("instant", "expected"),
    [
        ("2026-11-16T00:00", 0),
        ("2026-11-16T00:59:59", 0),
        ("2026-11-22T23:59:59", 167),
        ("2026-10-25T02:30+02:00", 146),
        ("2026-10-25T02:30+01:00", 146),
        ("2026-03-29T03:00+02:00", 147),
        ("2026-07-01T12:00", 2 * 24 + 12),
    ],
    ids=[
        "monday-midnight",
        "monday-00:59",
        "sunday-23:59",
        "autumn-first-02",
        "autumn-second-02",
        "spring-03",
        "summer-wednesday",
    ],
)
def test_hour_of_week(instant: str, expected: int) -> None:
    assert hour_of_week(at(instant), TZ) == expected


@given(st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 1, 1)))
def test_hour_of_week_is_weekday_and_hour_of_local_time(naive: datetime) -> None:
    instant = naive.replace(tzinfo=TZ)
    local = instant.astimezone(TZ)
    assert hour_of_week(instant, TZ) == local.weekday() * 24 + local.hour


def test_offset_changes_are_the_two_dst_changes_of_a_year() -> None:
    start, end = at("2026-01-01T00:00"), at("2027-01-01T00:00")
    changes = offset_changes(start, end, TZ)
    assert [(datetime.fromtimestamp(t, TZ).isoformat(), o) for t, o in changes] == [
        ("2026-01-01T00:00:00+01:00", 3600),
        ("2026-03-29T03:00:00+02:00", 7200),
        ("2026-10-25T02:00:00+01:00", 3600),
    ]


@given(
    st.lists(st.tuples(st.integers(0, 600), st.integers(1, 5)), min_size=1, max_size=30),
    st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]),
)
def test_percentile_is_percentile_cont(histogram: list[tuple[int, int]], fraction: float) -> None:
    values = sorted(v for v, n in histogram for _ in range(n))
    found = percentile(histogram, fraction)
    if len(values) == 1:
        assert found == values[0]
        return
    rank = fraction * (len(values) - 1)
    low = values[int(rank)]
    high = values[min(int(rank) + 1, len(values) - 1)]
    assert found == pytest.approx(low + (high - low) * (rank - int(rank)))
    if fraction == 0.5:
        assert found == pytest.approx(statistics.median(values))


def test_percentile_of_nothing_is_none() -> None:
    assert percentile([], 0.9) is None
    assert percentile([(5, 0)], 0.9) is None


@pytest.mark.parametrize(
    ("by", "first", "last", "expected"),
    [
        (None, "2026-01-01", "2026-12-31", [("2026-01-01", "2026-12-31")]),
        (
            "week",
            "2026-11-18",
            "2026-12-01",
            [
                ("2026-11-18", "2026-11-22"),
                ("2026-11-23", "2026-11-29"),
                ("2026-11-30", "2026-12-01"),
            ],
        ),
        (
            "month",
            "2026-11-15",
            "2027-01-10",
            [
                ("2026-11-15", "2026-11-30"),
                ("2026-12-01", "2026-12-31"),
                ("2027-01-01", "2027-01-10"),
            ],
        ),
        (
            "year",
            "2025-06-01",
            "2026-03-01",
            [("2025-06-01", "2025-12-31"), ("2026-01-01", "2026-03-01")],
        ),
        (
            "day",
            "2026-02-28",
            "2026-03-01",
            [("2026-02-28", "2026-02-28"), ("2026-03-01", "2026-03-01")],
        ),
    ],
    ids=["whole", "iso-weeks", "months", "years", "days"],
)
def test_periods_split_in_local_calendar_units(by, first, last, expected) -> None:
    found = periods(date.fromisoformat(first), date.fromisoformat(last), by, TZ)
    assert [(p.first.isoformat(), p.last.isoformat()) for p in found] == expected
    assert found[0].start == at(f"{first}T00:00")
    assert all(a.end == b.start for a, b in pairwise(found))


@pytest.mark.parametrize(
    ("first", "last", "by", "message"),
    [
        ("2026-02-01", "2026-01-01", None, "before it starts"),
        ("2000-01-01", "2026-01-01", None, "at most 3660 days"),
        ("2024-01-01", "2026-12-31", "day", "at most 800 periods"),
        ("2026-01-01", "2026-01-02", "hour", "cannot group by"),
    ],
    ids=["reversed", "too-long", "too-many-periods", "unknown-grouping"],
)
def test_bad_ranges_are_refused(first: str, last: str, by: str | None, message: str) -> None:
    with pytest.raises(ReportError, match=message):
        periods(date.fromisoformat(first), date.fromisoformat(last), by, TZ)


def test_the_threshold_per_unit_comes_from_the_registry(shipped: Registry) -> None:
    service = ReportService(
        session_factory(create_engine_for("sqlite://")), shipped, Clock(REPORTED_AT)
    )
    thresholds = service.parameters().thresholds
    assert thresholds == {"omstilling": 30}  # the others keep the default of 60 s
    given = ReportService(
        session_factory(create_engine_for("sqlite://")),
        shipped,
        Clock(REPORTED_AT),
        thresholds={"jobcenter": 20},
    )
    assert given.parameters().thresholds == {"omstilling": 30, "jobcenter": 20}
