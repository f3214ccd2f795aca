"""Open or closed at an instant, when a unit closes, and when it opens next.

The answers are exact across holidays, half days, seasons, overnight intervals and
daylight-saving changes, and look ahead :data:`HORIZON_DAYS` days.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from phoneservice.domain.errors import DomainError, require_aware
from phoneservice.domain.hours.schedule import OPEN_LABEL, DayPlan, Schedule, Span
from phoneservice.domain.hours.timeline import (
    WINDOW_DAYS,
    Answer,
    Timeline,
    build,
    closed_reason,
)
from phoneservice.domain.hours.wallclock import from_epoch, local_date, midnight_epoch

HORIZON_DAYS = 366
HORIZON_SECONDS = HORIZON_DAYS * 86400
_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Override:
    """A manual override: a unit closed (or opened) from ``start`` to ``end``, with a reason."""

    unit: str
    start: datetime
    end: datetime
    open: bool
    reason: str
    author: str

    def __post_init__(self) -> None:
        require_aware(self.start, "override start")
        require_aware(self.end, "override end")
        if self.end <= self.start:
            raise DomainError("an override must end after it starts")
        if not self.reason.strip():
            raise DomainError("an override needs a reason")

    def covers(self, at: float) -> bool:
        """Whether the override is in force at the epoch instant ``at``."""
        return self.start.timestamp() <= at < self.end.timestamp()

    def span(self) -> Span:
        """The override's period as instants."""
        return Span(int(self.start.timestamp()), int(self.end.timestamp()), self.reason)


@dataclass(frozen=True, slots=True)
class Status:
    """A unit's state at an instant: open or closed, why, and the next change."""

    open: bool
    reason: str
    closes_at: datetime | None = None
    next_open: datetime | None = None
    override: Override | None = None


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


def status_at(schedule: Schedule, t: float, overrides: Sequence[Override] = ()) -> Status:
    """:func:`status` at an epoch instant."""
    if overrides:
        return _status_with_overrides(schedule, t, overrides)
    if schedule.always_open:
        return _ALWAYS_OPEN
    is_open, reason, closes, opens = _timeline_answer(schedule, t)
    tz = schedule.timezone
    if is_open:
        return Status(True, reason, None if closes is None else from_epoch(closes, tz))
    return Status(False, reason, None, None if opens is None else from_epoch(opens, tz))


def _timeline_answer(schedule: Schedule, t: float) -> Answer:
    """Ask the cached timeline; rebuild it over the whole horizon when it cannot tell."""
    horizon = t + HORIZON_SECONDS
    timeline = schedule.memo.get("timeline")
    if not isinstance(timeline, Timeline) or not timeline.covers(t):
        today = local_date(t, schedule.timezone)
        timeline = build(schedule, today - _DAY, today + timedelta(days=WINDOW_DAYS))
        schedule.memo["timeline"] = timeline
    answer = timeline.answer(t, horizon)
    if answer is None:  # a long closure or opening: keep the horizon-long timeline
        today = local_date(t, schedule.timezone)
        timeline = build(schedule, today - _DAY, today + timedelta(days=HORIZON_DAYS + 1))
        schedule.memo["timeline"] = timeline
        answer = timeline.answer(t, horizon)
    if answer is None:
        raise DomainError("a horizon-long timeline could not answer")  # pragma: no cover
    return answer


def _status_with_overrides(schedule: Schedule, t: float, overrides: Sequence[Override]) -> Status:
    """The general walk over open pieces, with overrides applied."""
    today = local_date(t, schedule.timezone)
    override = _active_override(overrides, t)
    pieces = _pieces(schedule, today - _DAY, overrides)
    horizon = t + HORIZON_SECONDS
    for piece in pieces:
        if piece.end <= t:
            continue
        if piece.start > horizon:
            break
        if piece.start <= t:
            closes = _chain_end(piece, pieces, horizon)
            return Status(True, piece.reason, _to_dt(schedule, closes), None, override)
        reason = _closed_reason(schedule, today, override)
        return Status(False, reason, None, _to_dt(schedule, piece.start), override)
    return Status(False, _closed_reason(schedule, today, override), None, None, override)


def next_change(
    schedule: Schedule, at: datetime, overrides: Sequence[Override] = ()
) -> datetime | None:
    """The next instant the unit opens or closes, or None beyond the horizon."""
    state = status(schedule, at, overrides)
    return state.closes_at if state.open else state.next_open


def effective_days(schedule: Schedule, first: date, days: int) -> list[DayPlan]:
    """The effective intervals of ``days`` dates from ``first``, with their reasons."""
    if days < 0:
        raise DomainError("days must not be negative")
    return [schedule.day_plan(first + timedelta(days=n)) for n in range(days)]


def open_spans(
    schedule: Schedule, first: date, last: date, overrides: Sequence[Override] = ()
) -> list[Span]:
    """The open periods that start on the dates ``first`` to ``last``, overrides applied."""
    until = _to_epoch_bound(schedule, last + _DAY)
    start = _to_epoch_bound(schedule, first)
    result = []
    for piece in _pieces(schedule, first, overrides, last):
        if piece.start >= until:
            break
        if piece.start >= start:
            result.append(piece)
    return result


def _to_epoch_bound(schedule: Schedule, day: date) -> int:
    """Local midnight of ``day`` as an instant."""
    return midnight_epoch(day, schedule.timezone)


def _closed_reason(schedule: Schedule, today: date, override: Override | None) -> str:
    """Why a unit is closed: an override, or the layer that decided the day."""
    if override is not None and not override.open:
        return override.reason
    return closed_reason(schedule, today)


def _active_override(overrides: Iterable[Override], t: float) -> Override | None:
    """The override in force at ``t``; a closing one wins over an opening one."""
    active = [o for o in overrides if o.covers(t)]
    active.sort(key=lambda o: o.open)
    return active[0] if active else None


def _to_dt(schedule: Schedule, epoch: float | None) -> datetime | None:
    """An epoch instant as an aware local datetime."""
    return None if epoch is None else from_epoch(epoch, schedule.timezone)


def _chain_end(first: Span, pieces: Iterator[Span], horizon: float) -> float | None:
    """Where an open period really ends, merging adjacent pieces; None past the horizon."""
    end = first.end
    for piece in pieces:
        if end > horizon or piece.start > end:
            break
        end = max(end, piece.end)
    return None if end > horizon else end


def _pieces(
    schedule: Schedule,
    first: date,
    overrides: Sequence[Override],
    last: date | None = None,
) -> Iterator[Span]:
    """Open pieces in order of start from ``first`` on, with overrides applied."""
    stop = last if last is not None else first + timedelta(days=HORIZON_DAYS + 2)
    base = _base_pieces(schedule, first, stop)
    if not overrides:
        return base
    opening = sorted((o.span() for o in overrides if o.open), key=lambda s: s.start)
    closing = [o.span() for o in overrides if not o.open]
    merged = heapq.merge(base, opening, key=lambda s: s.start)
    return (part for piece in merged for part in _cut_all(piece, closing))


def _base_pieces(schedule: Schedule, first: date, last: date) -> Iterator[Span]:
    """The schedule's own open pieces, day by day from ``first`` to ``last``."""
    spans = schedule.spans
    day = first
    while day <= last:
        yield from spans(day)
        day += _DAY


def _cut_all(piece: Span, closing: Iterable[Span]) -> list[Span]:
    """The parts of ``piece`` outside every closing window."""
    parts = [piece]
    for window in closing:
        parts = [part for p in parts for part in _cut_out(p, window)]
    return parts


def _cut_out(piece: Span, window: Span) -> list[Span]:
    """``piece`` minus ``window`` (zero, one or two pieces)."""
    if window.end <= piece.start or window.start >= piece.end:
        return [piece]
    parts = []
    if piece.start < window.start:
        parts.append(Span(piece.start, window.start, piece.reason))
    if window.end < piece.end:
        parts.append(Span(window.end, piece.end, piece.reason))
    return parts
