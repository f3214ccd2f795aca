"""Properties of the hours engine and deadlines, over random instants and schedules."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from phoneservice.domain.hours.schedule import DatedHours, Interval, Schedule, Season
from phoneservice.domain.hours.status import Override, open_spans, status
from phoneservice.domain.hours.workdays import deadline
from phoneservice.registry import load_registry
from tests.conftest import SHIPPED_CONFIG, TODAY, TZ

SHIPPED = load_registry(SHIPPED_CONFIG, TODAY)
CALENDARS = list(SHIPPED.calendars.values())
SECOND = timedelta(seconds=1)


def before(moment: datetime) -> datetime:
    """The instant one second before ``moment`` (in UTC: aware arithmetic in a local zone is
    wall-clock arithmetic, and 03:00 - 1 s on the spring-forward night is a time that never was)."""
    return moment.astimezone(UTC) - SECOND


instants = st.datetimes(
    min_value=datetime(2023, 1, 1), max_value=datetime(2028, 6, 30), timezones=st.just(UTC)
)
intervals = st.builds(
    lambda start, length: Interval(start, min(start + length, 2880)),
    st.integers(0, 95).map(lambda q: q * 15),
    st.integers(1, 96).map(lambda q: q * 15),
)
days = st.lists(intervals, max_size=2).map(lambda found: tuple(sorted(found)))
weeks = st.tuples(days, days, days, days, days, days, days)
month_days = st.tuples(st.integers(1, 12), st.integers(1, 28))
seasons = st.builds(
    lambda name, week, first, last: Season(name, week, first, last),
    st.sampled_from(["Sommer", "Vinter"]),
    weeks,
    month_days,
    month_days,
)
exceptions = st.builds(
    lambda first, length, hours: DatedHours(first, first + timedelta(days=length), hours, "Undt."),
    st.dates(date(2023, 1, 1), date(2028, 6, 30)),
    st.integers(0, 20),
    days,
)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    """A random schedule on one of the shipped calendars, or a shipped unit's own."""
    if draw(st.booleans()):
        return draw(st.sampled_from([u.schedule for u in SHIPPED.units.values()]))
    found = {}
    for exc in draw(st.lists(exceptions, max_size=2)):
        day = exc.first
        while day <= exc.last:
            found.setdefault(day, exc)
            day += timedelta(days=1)
    return Schedule(
        TZ,
        draw(st.sampled_from(CALENDARS)),
        draw(weeks),
        tuple(draw(st.lists(seasons, max_size=2))),
        found,
    )


PROPERTY = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(st.sampled_from(CALENDARS), instants)
def test_deadline_is_the_end_of_the_next_working_day(calendar, received):
    due = deadline(calendar, received, TZ)
    local = received.astimezone(TZ).date()
    assert due > received
    assert calendar.is_working_day(due.date())
    assert due.hour * 60 + due.minute == calendar.workday_end_minute(due.date())
    between = (local + timedelta(days=n) for n in range(1, (due.date() - local).days))
    assert not any(calendar.is_working_day(day) for day in between)


@PROPERTY
@given(schedules(), instants)
def test_next_open_is_in_the_future_and_open_there(schedule, moment):
    state = status(schedule, moment)
    if state.open or state.next_open is None:
        return
    assert state.next_open > moment
    assert status(schedule, state.next_open).open
    if before(state.next_open) >= moment:
        assert not status(schedule, before(state.next_open)).open


@PROPERTY
@given(schedules(), instants)
def test_closes_at_is_the_end_of_the_open_period(schedule, moment):
    state = status(schedule, moment)
    if not state.open or state.closes_at is None:
        return
    assert state.closes_at > moment
    assert not status(schedule, state.closes_at).open
    assert status(schedule, before(state.closes_at)).open


@PROPERTY
@given(schedules(), instants)
def test_status_agrees_with_the_effective_intervals(schedule, moment):
    t = moment.timestamp()
    local = moment.astimezone(TZ).date()
    spans = open_spans(schedule, local - timedelta(days=2), local)
    assert status(schedule, moment).open == any(s.start <= t < s.end for s in spans)


@st.composite
def overridden(draw: st.DrawFn) -> tuple[Schedule, datetime, list[Override]]:
    """A schedule, an instant (whole seconds) and up to three overrides around it."""
    moment = draw(instants).replace(microsecond=0)
    found = []
    for _ in range(draw(st.integers(0, 3))):
        start = moment + timedelta(minutes=draw(st.integers(-48 * 60, 48 * 60)))
        length = timedelta(minutes=draw(st.integers(1, 72 * 60)))
        is_open, reason = draw(st.booleans()), draw(st.sampled_from(["Brandalarm", "Ekstra"]))
        found.append(Override("u", start, start + length, is_open, reason, "test"))
    return draw(schedules()), moment, found


def _deciding(overrides: list[Override], moment: datetime) -> Override | None:
    """The override in force: the first closing one, else the first opening one."""
    active = [o for o in overrides if o.start <= moment < o.end]
    return next((o for o in active if not o.open), active[0] if active else None)


@PROPERTY
@given(overridden())
def test_overrides_decide_open_and_the_reason(case):
    schedule, moment, overrides = case
    state, deciding = status(schedule, moment, overrides), _deciding(overrides, moment)
    assert state.override is deciding
    if deciding is None:
        plain = status(schedule, moment)
        assert (state.open, state.reason) == (plain.open, plain.reason)
    elif not deciding.open:
        assert (state.open, state.reason) == (False, deciding.reason)
    else:
        assert state.open


@PROPERTY
@given(overridden())
def test_closes_at_and_next_open_hold_with_overrides(case):
    schedule, moment, overrides = case
    state = status(schedule, moment, overrides)
    change = state.closes_at if state.open else state.next_open
    if change is None:
        return
    assert change > moment
    assert status(schedule, change, overrides).open is not state.open
    if before(change) >= moment:
        assert status(schedule, before(change), overrides).open is state.open
