"""A unit's open periods over a window of days, flattened for fast look-ups.

The board asks every unit's state many times a minute; a timeline answers with two
binary searches instead of walking day plans. It is rebuilt when a question falls
outside its window or needs to look further ahead than the window reaches.

A unit's manual overrides are merged into the same open pieces (:func:`build`):
a closing override cuts the pieces in its span, an opening one adds a piece. So there is
one walk, and "open", "closes at" and "opens next" agree with and without overrides.
"""

from __future__ import annotations

import heapq
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from phoneservice.domain.hours.override import Deciders, Override, deciders
from phoneservice.domain.hours.schedule import CLOSED_LABEL, LAYER_WEEK, Schedule, Span
from phoneservice.domain.hours.wallclock import midnight_epoch

WINDOW_DAYS = 14
_DAY = timedelta(days=1)

# (open, reason, closes_at epoch, next_open epoch, the override in force)
Answer = tuple[bool, str, int | None, int | None, Override | None]


@dataclass(frozen=True, slots=True)
class Timeline:
    """Non-overlapping open pieces that start on the days ``first`` to ``last``."""

    valid_from: int
    end_epoch: int
    starts: tuple[int, ...]
    ends: tuple[int, ...]
    reasons: tuple[str, ...]
    chains: tuple[int, ...]
    midnights: tuple[int, ...]
    closed_reasons: tuple[str, ...]
    deciders: Deciders | None = None  # None: no override reaches this window

    def covers(self, t: float) -> bool:
        """Whether instants like ``t`` can be answered from this window."""
        return self.valid_from <= t < self.end_epoch

    def answer(self, t: float, horizon: float) -> Answer | None:
        """The state at ``t``, or None when the window is too short to be sure."""
        decided = self.deciders
        override = None if decided is None else decided.at(t)
        i = bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.ends[i]:
            chain = self.chains[i]
            if chain >= self.end_epoch and self.end_epoch <= horizon:
                return None
            return True, self.reasons[i], chain if chain <= horizon else None, None, override
        if override is not None and not override.open:
            reason = override.reason
        else:
            reason = self.closed_reasons[bisect_right(self.midnights, t) - 1]
        if i + 1 < len(self.starts):
            start = self.starts[i + 1]
            return False, reason, None, start if start <= horizon else None, override
        return (False, reason, None, None, override) if self.end_epoch > horizon else None


def build(
    schedule: Schedule, first: date, last: date, overrides: Sequence[Override] = ()
) -> Timeline:
    """Flatten the schedule's pieces for the days ``first`` to ``last``, overrides merged in."""
    tz = schedule.timezone
    valid_from, end_epoch = midnight_epoch(first + _DAY, tz), midnight_epoch(last + _DAY, tz)
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    found = [o for o in overrides if o.span().end > valid_from]  # those over before add nothing
    pieces = day_pieces(schedule, first, last)
    return _flattened(
        _merged(pieces, found, end_epoch) if found else normalised(pieces),
        valid_from,
        end_epoch,
        tuple(midnight_epoch(day, tz) for day in days),
        tuple(closed_reason(schedule, day) for day in days),
        deciders(found) if found else None,
    )


def closed_reason(schedule: Schedule, day: date) -> str:
    """What to say when the unit is closed on ``day``: the deciding layer's label."""
    plan = schedule.day_plan(day)
    return CLOSED_LABEL if plan.layer == LAYER_WEEK else plan.reason


def day_pieces(schedule: Schedule, first: date, last: date) -> Iterable[Span]:
    """The schedule's own open pieces, day by day from ``first`` to ``last``."""
    day = first
    while day <= last:
        yield from schedule.spans(day)
        day += _DAY


def merge_overrides(pieces: Iterable[Span], overrides: Sequence[Override]) -> list[Span]:
    """Open pieces (given in order of start) with the overrides applied, none overlapping.

    An opening override adds a piece with its reason; where pieces overlap, the one that
    started first keeps the time (a schedule's piece before an override's on a tie). A
    closing override cuts every piece in its span.
    """
    opening = sorted((o.span() for o in overrides if o.open), key=_start)
    closing = [o.span() for o in overrides if not o.open]
    merged = normalised(heapq.merge(pieces, opening, key=_start))
    if not closing:
        return merged
    return [part for piece in merged for part in _cut_all(piece, closing)]


def _merged(pieces: Iterable[Span], overrides: Sequence[Override], end_epoch: int) -> list[Span]:
    """The window's pieces with the overrides merged in; none starting after the window."""
    return [p for p in merge_overrides(pieces, overrides) if p.start < end_epoch]


def normalised(spans: Iterable[Span]) -> list[Span]:
    """Pieces in order of start, clipped so that none overlaps the one before."""
    pieces: list[Span] = []
    for span in spans:
        if pieces and span.start < pieces[-1].end:
            if span.end <= pieces[-1].end:
                continue
            span = Span(pieces[-1].end, span.end, span.reason)
        pieces.append(span)
    return pieces


def _flattened(
    pieces: Sequence[Span],
    valid_from: int,
    end_epoch: int,
    midnights: tuple[int, ...],
    closed_reasons: tuple[str, ...],
    decided: Deciders | None = None,
) -> Timeline:
    """The timeline of non-overlapping pieces: each piece knows where its open chain ends."""
    chains = [0] * len(pieces)
    for n in range(len(pieces) - 1, -1, -1):
        joined = n + 1 < len(pieces) and pieces[n + 1].start <= pieces[n].end
        chains[n] = chains[n + 1] if joined else pieces[n].end
    return Timeline(
        valid_from,
        end_epoch,
        tuple(p.start for p in pieces),
        tuple(p.end for p in pieces),
        tuple(p.reason for p in pieces),
        tuple(chains),
        midnights,
        closed_reasons,
        decided,
    )


def _start(span: Span) -> int:
    """The sort key of pieces."""
    return span.start


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
