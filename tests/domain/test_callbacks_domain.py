"""The pure callback rules (SPEC §6): what a call means, transitions, and their errors."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from phoneservice.domain.callbacks import rules as cb
from phoneservice.domain.callbacks.rules import (
    Attempt,
    Callback,
    CallbackError,
    CallbackRules,
    ClaimConflict,
    InvalidTransition,
)
from phoneservice.domain.calls.records import CallRecord
from phoneservice.domain.errors import NaiveDatetimeError
from phoneservice.domain.hours.calendar import Calendar
from tests.conftest import TZ

# Friday 2026-11-20 10:00 local; the working-day deadline is Monday 15:00.
FRIDAY = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
MONDAY_DUE = datetime(2026, 11, 23, 15, 0, tzinfo=TZ)
WEEKDAYS = Calendar("none", 15 * 60)
CALLBACK = CallbackRules("callback", 3)
LOG = CallbackRules("log", 3)


def call(outcome: str = "abandoned", **changes: object) -> CallRecord:
    """A finished call of a citizen to the jobcenter."""
    record = CallRecord(
        pbx="pbx",
        uniqueid="1.1",
        linkedid="1.1",
        unit="jobcenter",
        queue="jobcenter",
        caller_number="+4523119993",
        caller_name="Jens Hansen",
        arrived_at=FRIDAY,
        during_hours=outcome != "closed",
        pbx_hours=None,
        hours_disagree=False,
        outcome=outcome,
        short_abandon=False,
        wait_s=12,
        ring_attempts=0,
        talk_s=None,
        agent=None,
        ended_at=FRIDAY + timedelta(seconds=12),
        segments=(),
    )
    return replace(record, **changes)  # type: ignore[arg-type]


def task(**changes: object) -> Callback:
    """An open task of the first missed call, stored as id 7."""
    opened = cb.open_callback(call(), WEEKDAYS, TZ, FRIDAY + timedelta(minutes=1))
    return replace(opened, id=7, **changes)  # type: ignore[arg-type]


def attempt(outcome: str | None, by: str = "anne", minutes: int = 60) -> Attempt:
    return Attempt(FRIDAY + timedelta(minutes=minutes), by, outcome)


MEANINGS = [
    ("abandoned", call("abandoned"), CALLBACK, cb.MISSED),
    ("timeout", call("timeout"), CALLBACK, cb.MISSED),
    ("unanswered", call("unanswered"), CALLBACK, cb.MISSED),
    ("unknown-counts-as-missed", call("unknown"), CALLBACK, cb.MISSED),
    ("short-abandon-still-missed", call(short_abandon=True), CALLBACK, cb.MISSED),
    ("closed-with-callback", call("closed"), CALLBACK, cb.MISSED),
    ("closed-only-logged", call("closed"), LOG, cb.IGNORED),
    ("abandoned-when-log", call("abandoned"), LOG, cb.MISSED),
    ("withheld", call(caller_number=None), CALLBACK, cb.WITHHELD),
    ("withheld-closed-callback", call("closed", caller_number=None), CALLBACK, cb.WITHHELD),
    ("withheld-closed-log", call("closed", caller_number=None), LOG, cb.IGNORED),
    ("answered", call("answered"), CALLBACK, cb.REACHED_US),
    ("answered-withheld", call("answered", caller_number=None), CALLBACK, cb.IGNORED),
    ("no-unit", call(unit=None), CALLBACK, cb.IGNORED),
]


@pytest.mark.parametrize(
    ("record", "rules", "expected"), [m[1:] for m in MEANINGS], ids=[m[0] for m in MEANINGS]
)
def test_what_a_stored_call_means(record, rules, expected):
    assert cb.meaning(record, rules) == expected


def test_a_new_task_is_due_before_the_end_of_the_next_working_day():
    opened = cb.open_callback(call(short_abandon=True), WEEKDAYS, TZ, FRIDAY)
    assert (opened.state, opened.due_at, opened.first_call_at) == (cb.OPEN, MONDAY_DUE, FRIDAY)
    assert (opened.missed_calls, opened.short_abandons, opened.created_at) == (1, 1, FRIDAY)


def test_joining_counts_the_call_and_never_moves_the_deadline():
    later = call(arrived_at=FRIDAY + timedelta(days=3), short_abandon=True)
    joined = cb.join(task(), later)
    assert (joined.missed_calls, joined.short_abandons, joined.due_at) == (2, 1, MONDAY_DUE)


@pytest.mark.parametrize(
    ("other", "message"),
    [
        (call(caller_number="+4511111111"), "not from this task"),
        (call(unit="borgerservice"), "not from this task"),
    ],
    ids=["other-number", "other-unit"],
)
def test_joining_a_call_of_another_pair_is_refused(other, message):
    with pytest.raises(CallbackError, match=message):
        cb.join(task(), other)


REACHED_US = [
    ("after-first-missed-call", timedelta(minutes=5), cb.DONE),
    ("at-the-same-instant", timedelta(0), cb.OPEN),
    ("before-first-missed-call", -timedelta(minutes=5), cb.OPEN),
]


@pytest.mark.parametrize(
    ("offset", "state"), [r[1:] for r in REACHED_US], ids=[r[0] for r in REACHED_US]
)
def test_the_caller_reaching_us_closes_only_after_the_first_missed_call(offset, state):
    closed = cb.caller_reached_us(task(), FRIDAY + offset)
    assert closed.state == state
    if state == cb.DONE:
        assert (closed.resolution, closed.closed_at, closed.closed_by) == (
            cb.CALLER_REACHED_US,
            FRIDAY + offset,
            None,
        )
        assert closed.on_time() is True


def test_answered_at_adds_the_wait():
    assert cb.answered_at(FRIDAY, 30) == FRIDAY + timedelta(seconds=30)
    assert cb.answered_at(FRIDAY, None) == FRIDAY


# (id, outcomes in order, max_attempts, state, resolution)
ATTEMPTS = [
    ("reached-first", ["reached"], 3, cb.DONE, cb.CALLED_BACK),
    ("reached-after-failures", ["no_answer", "busy", "reached"], 3, cb.DONE, cb.CALLED_BACK),
    ("two-failures-stay-open", ["no_answer", "voicemail"], 3, cb.OPEN, None),
    ("max-failures", ["no_answer", "busy", "voicemail"], 3, cb.UNREACHABLE, cb.UNREACHABLE),
    ("max-one", ["busy"], 1, cb.UNREACHABLE, cb.UNREACHABLE),
    ("wrong-number-at-once", ["wrong_number"], 3, cb.UNREACHABLE, cb.UNREACHABLE),
]


@pytest.mark.parametrize(
    ("outcomes", "limit", "state", "resolution"),
    [a[1:] for a in ATTEMPTS],
    ids=[a[0] for a in ATTEMPTS],
)
def test_attempts_close_the_task_by_the_rules(outcomes, limit, state, resolution):
    current = task()
    for minutes, outcome in enumerate(outcomes, start=1):
        current = cb.record_attempt(current, attempt(outcome, minutes=minutes), limit)
    assert (current.state, current.resolution, len(current.attempts)) == (
        state,
        resolution,
        len(outcomes),
    )
    if state != cb.OPEN:
        assert current.closed_at == FRIDAY + timedelta(minutes=len(outcomes))
        assert current.closed_by == "anne"


def test_claim_release_and_take_over():
    now = FRIDAY + timedelta(hours=1)
    mine = cb.claim(task(), "anne", now)
    assert (mine.claimed_by, mine.claimed_at) == ("anne", now)
    assert cb.claim(mine, "anne", now + timedelta(minutes=5)) is mine  # claiming again: no change
    with pytest.raises(ClaimConflict, match="claimed by anne"):
        cb.claim(mine, "bo", now)
    taken = cb.claim(mine, "bo", now, force=True)
    assert taken.claimed_by == "bo"
    with pytest.raises(ClaimConflict, match="claimed by bo"):
        cb.release(taken, "anne")
    assert cb.release(taken, "bo").claimed_by is None


HOLDER_ONLY = [
    ("attempt", lambda t: cb.record_attempt(t, attempt("busy", by="bo"), 3)),
    ("note", lambda t: cb.set_note(t, "bo", "ring efter kl. 12")),
    ("cancel", lambda t: cb.cancel(t, "bo", "dublet", FRIDAY)),
    ("release", lambda t: cb.release(t, "bo")),
]


@pytest.mark.parametrize("action", [h[1] for h in HOLDER_ONLY], ids=[h[0] for h in HOLDER_ONLY])
def test_only_the_holder_acts_on_a_claimed_task(action):
    with pytest.raises(ClaimConflict, match="claimed by anne"):
        action(cb.claim(task(), "anne", FRIDAY))


def test_an_unclaimed_task_can_be_worked_by_anyone():
    assert cb.record_attempt(task(), attempt("busy", by="bo"), 3).failed_attempts == 1


def test_release_of_an_unclaimed_task_is_refused():
    with pytest.raises(InvalidTransition, match="not claimed"):
        cb.release(task(), "anne")


def test_notes_are_short_and_stripped():
    assert cb.set_note(task(), "anne", "  ring efter kl. 12 ").note == "ring efter kl. 12"
    assert cb.set_note(task(note="x"), "anne", "").note is None
    assert cb.set_note(task(), "anne", "x" * cb.NOTE_LIMIT).note == "x" * 280
    with pytest.raises(CallbackError, match="at most 280 characters, not 281"):
        cb.set_note(task(), "anne", "x" * 281)


def test_cancel_needs_a_reason():
    with pytest.raises(CallbackError, match="needs a reason"):
        cb.cancel(task(), "anne", "  ", FRIDAY)
    cancelled = cb.cancel(task(), "anne", "borgeren har skrevet i stedet", FRIDAY)
    assert (cancelled.state, cancelled.resolution, cancelled.closed_by) == (
        cb.CANCELLED,
        cb.CANCELLED,
        "anne",
    )
    assert cancelled.cancel_reason == "borgeren har skrevet i stedet"
    assert cancelled.on_time() is False


CLOSED_TASKS = [
    ("done", cb.record_attempt(task(), attempt("reached"), 3)),
    ("unreachable", cb.record_attempt(task(), attempt("wrong_number"), 3)),
    ("cancelled", cb.cancel(task(), "anne", "dublet", FRIDAY)),
]
ACTIONS = [
    ("claim", lambda t: cb.claim(t, "anne", FRIDAY)),
    ("release", lambda t: cb.release(t, "anne")),
    ("attempt", lambda t: cb.record_attempt(t, attempt("busy"), 3)),
    ("note", lambda t: cb.set_note(t, "anne", "x")),
    ("cancel", lambda t: cb.cancel(t, "anne", "x", FRIDAY)),
    ("join", lambda t: cb.join(t, call())),
]


@pytest.mark.parametrize("closed", [c[1] for c in CLOSED_TASKS], ids=[c[0] for c in CLOSED_TASKS])
@pytest.mark.parametrize("action", [a[1] for a in ACTIONS], ids=[a[0] for a in ACTIONS])
def test_a_closed_task_refuses_every_action(closed, action):
    with pytest.raises(InvalidTransition, match=f"callback 7: it is {closed.state}"):
        action(closed)


def test_a_closed_task_ignores_the_caller_reaching_us():
    done = CLOSED_TASKS[0][1]
    assert cb.caller_reached_us(done, FRIDAY + timedelta(days=1)) is done


ON_TIME = [
    ("open", task(), None),
    ("done-before-due", cb.caller_reached_us(task(), MONDAY_DUE - timedelta(hours=1)), True),
    ("done-at-due", cb.caller_reached_us(task(), MONDAY_DUE), True),
    ("done-late", cb.caller_reached_us(task(), MONDAY_DUE + timedelta(seconds=1)), False),
    ("unreachable", CLOSED_TASKS[1][1], False),
]


@pytest.mark.parametrize("closed,expected", [o[1:] for o in ON_TIME], ids=[o[0] for o in ON_TIME])
def test_on_time_means_done_at_or_before_the_deadline(closed, expected):
    assert closed.on_time() is expected


def test_overdue_is_open_and_past_the_deadline():
    assert not task().overdue(MONDAY_DUE)
    assert task().overdue(MONDAY_DUE + timedelta(seconds=1))
    assert not CLOSED_TASKS[0][1].overdue(MONDAY_DUE + timedelta(days=1))


def test_overdue_is_marked_once():
    late = MONDAY_DUE + timedelta(minutes=1)
    marked = cb.mark_overdue(task(), late)
    assert marked.overdue_at == late
    assert cb.mark_overdue(marked, late + timedelta(hours=1)) is marked
    assert cb.mark_overdue(task(), MONDAY_DUE).overdue_at is None


NAIVE = datetime(2026, 11, 20, 10, 0)
NAIVE_TIMES = [
    ("claim", lambda: cb.claim(task(), "anne", NAIVE)),
    ("cancel", lambda: cb.cancel(task(), "anne", "x", NAIVE)),
    ("attempt", lambda: Attempt(NAIVE, "anne", "busy")),
    ("overdue", lambda: task().overdue(NAIVE)),
    ("reached", lambda: cb.caller_reached_us(task(), NAIVE)),
    ("open", lambda: cb.open_callback(call(), WEEKDAYS, TZ, NAIVE)),
    ("call", lambda: cb.open_callback(call(arrived_at=NAIVE), WEEKDAYS, TZ, FRIDAY)),
    ("record", lambda: task(due_at=NAIVE)),
]


@pytest.mark.parametrize("action", [n[1] for n in NAIVE_TIMES], ids=[n[0] for n in NAIVE_TIMES])
def test_naive_datetimes_are_rejected(action):
    with pytest.raises(NaiveDatetimeError):
        action()


BAD_INPUT = [
    ("unknown-outcome", lambda: Attempt(FRIDAY, "anne", "maybe"), "must be one of reached"),
    ("no-outcome", lambda: cb.record_attempt(task(), attempt(None), 3), "needs an outcome"),
    ("no-user", lambda: cb.claim(task(), " ", FRIDAY), "a user is required"),
    ("bad-mode", lambda: CallbackRules("sometimes", 3), "'callback' or 'log'"),
    ("no-attempts", lambda: CallbackRules("log", 0), "at least 1"),
    ("bad-state", lambda: task(state="lost"), "state must be one of"),
    ("withheld", lambda: cb.open_callback(call(caller_number=None), WEEKDAYS, TZ, FRIDAY), "no"),
]


@pytest.mark.parametrize(
    ("action", "message"), [b[1:] for b in BAD_INPUT], ids=[b[0] for b in BAD_INPUT]
)
def test_bad_input_is_refused_with_a_clear_message(action, message):
    with pytest.raises(CallbackError, match=message):
        action()
