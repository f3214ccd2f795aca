"""Open or closed at an instant, when a unit closes, and when it opens next.

The answers are exact across holidays, half days, seasons, overnight intervals and
daylight-saving changes, and look ahead :data:`HORIZON_DAYS` days. Every answer, with or
without manual overrides, comes from one walk: a unit's timeline with its overrides merged
into its open pieces (:mod:`phoneservice.domain.hours.timeline`), cached on the schedule.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from phoneservice.domain.errors import DomainError, require_aware
from phoneservice.domain.hours.override import Override
from phoneservice.domain.hours.schedule import (
    LAYER_OVERRIDE,
    OPEN_LABEL,
    DayPlan,
    Interval,
    Schedule,
    Span,
)
from phoneservice.domain.hours.timeline import (
    WINDOW_DAYS,
    Answer,
    Timeline,
    build,
    day_pieces,
    merge_overrides,
    normalised,
)
from phoneservice.domain.hours.wallclock import (
    MINUTES_PER_DAY,
    from_epoch,
    local_date,
    midnight_epoch,
)

__all__ = [
    "HORIZON_DAYS",
    "Override",
    "Status",
    "earliest_change",
    "effective_days",
    "next_change",
    "open_spans",
    "status",
    "status_at",
    "statuses",
    "unit_statuses",
]

HORIZON_DAYS = 366
HORIZON_SECONDS = HORIZON_DAYS * 86400
_DAY = timedelta(days=1)
_PLAIN = "timeline"  # the memo key of the schedule's own timeline
_OVERRIDDEN = "overridden"  # ... and of the one with the last overrides asked about merged in


@dataclass(frozen=True, slots=True)
class Status:
    """A unit's state at an instant: open or closed, why, and the next change."""

    open: bool
    reason: str
    closes_at: datetime | None = None
    next_open: datetime | None = None
    override: Override | None = None


@dataclass(frozen=True, slots=True)
class _Overridden:
    """A timeline with ``overrides`` merged in, kept while the same overrides are asked about."""

    overrides: tuple[Override, ...]
    timeline: Timeline


_ALWAYS_OPEN = Status(True, OPEN_LABEL)


def status(schedule: Schedule, at: datetime, overrides: Sequence[Override] = ()) -> Status:
    """Open or closed at ``at``, the deciding reason, and ``closes_at`` or ``next_open``."""
    require_aware(at, "at")
    return status_at(schedule, at.timestamp(), overrides)


def statuses(entries: Iterable[tuple[Schedule, Sequence[Override]]], at: datetime) -> list[Status]:
    """The status of many units at one instant (the board's question)."""
    require_aware(at, "at")
    t = at.timestamp()
    return [status_at(schedule, t, overrides) for schedule, overrides in entries]


def unit_statuses(
    units: Iterable[tuple[str, Schedule]], at: datetime, overrides: Iterable[Override] = ()
) -> list[Status]:
    """The status of each ``(unit id, schedule)`` at ``at``, with that unit's own overrides."""
    by_unit: dict[str, list[Override]] = {}
    for override in overrides:
        by_unit.setdefault(override.unit, []).append(override)
    return statuses(((s, by_unit.get(unit_id, ())) for unit_id, s in units), at)


def status_at(schedule: Schedule, t: float, overrides: Sequence[Override] = ()) -> Status:
    """:func:`status` at an epoch instant."""
    if schedule.always_open and not overrides:
        return _ALWAYS_OPEN
    is_open, reason, closes, opens, override = _timeline_answer(schedule, t, overrides)
    tz = schedule.timezone
    if is_open:
        closes_at = None if closes is None else from_epoch(closes, tz)
        return Status(True, reason, closes_at, None, override)
    return Status(False, reason, None, None if opens is None else from_epoch(opens, tz), override)


def _timeline_answer(schedule: Schedule, t: float, overrides: Sequence[Override]) -> Answer:
    """Ask the cached timeline; rebuild it over the whole horizon when it cannot tell."""
    horizon = t + HORIZON_SECONDS
    timeline = _held(schedule, overrides) if overrides else schedule.memo.get(_PLAIN)
    if not isinstance(timeline, Timeline) or not timeline.covers(t):
        timeline = _build(schedule, t, WINDOW_DAYS, overrides)
    answer = timeline.answer(t, horizon)
    if answer is None:  # a long closure or opening: keep the horizon-long timeline
        timeline = _build(schedule, t, HORIZON_DAYS + 1, overrides)
        answer = timeline.answer(t, horizon)
    if answer is None:
        raise DomainError("a horizon-long timeline could not answer")  # pragma: no cover
    return answer


def _held(schedule: Schedule, overrides: Sequence[Override]) -> Timeline | None:
    """The cached timeline with these overrides merged in, if any."""
    held = schedule.memo.get(_OVERRIDDEN)
    if isinstance(held, _Overridden) and held.overrides == tuple(overrides):
        return held.timeline
    return None


def _build(schedule: Schedule, t: float, days: int, overrides: Sequence[Override]) -> Timeline:
    """Build the timeline from the day before ``t`` for ``days`` days on, and cache it."""
    today = local_date(t, schedule.timezone)
    timeline = build(schedule, today - _DAY, today + timedelta(days=days), overrides)
    if overrides:
        schedule.memo[_OVERRIDDEN] = _Overridden(tuple(overrides), timeline)
    else:
        schedule.memo[_PLAIN] = timeline
    return timeline


def next_change(
    schedule: Schedule, at: datetime, overrides: Sequence[Override] = ()
) -> datetime | None:
    """The next instant the unit opens or closes, or None beyond the horizon."""
    state = status(schedule, at, overrides)
    return state.closes_at if state.open else state.next_open


def effective_days(
    schedule: Schedule, first: date, days: int, overrides: Sequence[Override] = ()
) -> list[DayPlan]:
    """The effective intervals of ``days`` dates from ``first``, with their reasons.

    A date that one of the unit's ``overrides`` touches shows the open periods the merged
    walk leaves (the board's and the PBX's answer) and the override's reason.
    """
    if days < 0:
        raise DomainError("days must not be negative")
    plans = [schedule.day_plan(first + timedelta(days=n)) for n in range(days)]
    return [_overridden(schedule, plan, overrides) for plan in plans] if overrides else plans


def _overridden(schedule: Schedule, plan: DayPlan, overrides: Sequence[Override]) -> DayPlan:
    """``plan`` with the overrides in force on its date applied (unchanged without any)."""
    start, end = _midnight(schedule, plan.day), _midnight(schedule, plan.day + _DAY)
    touching = [o for o in overrides if o.start.timestamp() < end and o.end.timestamp() > start]
    if not touching:
        return plan
    # What is open on the date itself, from 00:00 to 24:00: a period that began the day
    # before, or runs on past midnight, is cut at the date's bounds.
    tz = schedule.timezone
    since = min([plan.day - _DAY, *(local_date(o.start.timestamp(), tz) for o in touching)])
    spans = open_spans(schedule, since, plan.day, touching)
    inside = [(max(s.start, start), min(s.end, end)) for s in spans if s.start < end]
    intervals = tuple(_interval(schedule, plan.day, a, b) for a, b in inside if a < b)
    reason = ", ".join(dict.fromkeys(o.reason for o in touching))
    return DayPlan(plan.day, intervals, reason, LAYER_OVERRIDE)


def _interval(schedule: Schedule, day: date, start: int, end: int) -> Interval:
    """The instants ``start`` to ``end`` within ``day`` as wall-clock minutes (24:00: 1440)."""
    last = (
        MINUTES_PER_DAY if end >= _midnight(schedule, day + _DAY) else _minute(schedule, day, end)
    )
    return Interval(_minute(schedule, day, start + 59), last)  # open only from a whole minute


def _minute(schedule: Schedule, day: date, epoch: int) -> int:
    """Whole wall-clock minutes after ``day``'s midnight at an instant (past 1440 later)."""
    local = from_epoch(epoch, schedule.timezone)
    return (local.date() - day).days * MINUTES_PER_DAY + local.hour * 60 + local.minute


def open_spans(
    schedule: Schedule, first: date, last: date, overrides: Sequence[Override] = ()
) -> list[Span]:
    """The open periods that start on the dates ``first`` to ``last``, overrides applied."""
    start, until = _midnight(schedule, first), _midnight(schedule, last + _DAY)
    pieces = day_pieces(schedule, first, last)
    merged = merge_overrides(pieces, overrides) if overrides else normalised(pieces)
    return [piece for piece in merged if start <= piece.start < until]


def _midnight(schedule: Schedule, day: date) -> int:
    """Local midnight of ``day`` as an instant."""
    return midnight_epoch(day, schedule.timezone)


def earliest_change(
    schedules: Mapping[str, Schedule], at: datetime, overrides: Sequence[Override] = ()
) -> datetime | None:
    """The earliest instant after ``at`` at which one of the units opens or closes, or an
    override of one starts or ends (its words change, if not its state); None if none.

    Each unit's state comes from :func:`unit_statuses`, as every other answer does.
    """
    states = unit_statuses(schedules.items(), at, overrides)
    changes = (state.closes_at if state.open else state.next_open for state in states)
    found = itertools.chain(changes, override_bounds(schedules, at, overrides))
    # By instant: within one zone Python compares wall times, and in the repeated hour of
    # the fall-back night 02:45 (first pass) would count as later than 02:15 (second pass).
    return min((c for c in found if c is not None), key=_instant, default=None)


def override_bounds(
    schedules: Mapping[str, Schedule], at: datetime, overrides: Sequence[Override]
) -> Iterator[datetime]:
    """Starts and ends of the units' overrides after ``at``: the words change, if not the state."""
    after = at.timestamp()
    for override in overrides:
        if override.unit in schedules:
            yield from (b for b in (override.start, override.end) if b.timestamp() > after)


def _instant(moment: datetime) -> float:
    """An aware datetime as an epoch instant, for ordering across folds and zones."""
    return moment.timestamp()
