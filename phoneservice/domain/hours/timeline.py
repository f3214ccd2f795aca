"""A unit's open periods over a window of days, flattened for fast look-ups.

The board asks every unit's state many times a minute; a timeline answers with two
binary searches instead of walking day plans. It is rebuilt when a question falls
outside its window or needs to look further ahead than the window reaches.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from datetime import date, timedelta

from phoneservice.domain.hours.schedule import CLOSED_LABEL, LAYER_WEEK, Schedule, Span
from phoneservice.domain.hours.wallclock import midnight_epoch

WINDOW_DAYS = 14
_DAY = timedelta(days=1)

# (open, reason, closes_at epoch, next_open epoch)
Answer = tuple[bool, str, int | None, int | None]


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

    def covers(self, t: float) -> bool:
        """Whether instants like ``t`` can be answered from this window."""
        return self.valid_from <= t < self.end_epoch

    def answer(self, t: float, horizon: float) -> Answer | None:
        """The state at ``t``, or None when the window is too short to be sure."""
        i = bisect_right(self.starts, t) - 1
        if i >= 0 and t < self.ends[i]:
            chain = self.chains[i]
            if chain >= self.end_epoch and self.end_epoch <= horizon:
                return None
            return True, self.reasons[i], chain if chain <= horizon else None, None
        reason = self.closed_reasons[bisect_right(self.midnights, t) - 1]
        if i + 1 < len(self.starts):
            start = self.starts[i + 1]
            return False, reason, None, start if start <= horizon else None
        return (False, reason, None, None) if self.end_epoch > horizon else None


def build(schedule: Schedule, first: date, last: date) -> Timeline:
    """Flatten the schedule's pieces for the days ``first`` to ``last`` into a timeline."""
    pieces = _normalised(schedule, first, last)
    chains = [0] * len(pieces)
    for n in range(len(pieces) - 1, -1, -1):
        joined = n + 1 < len(pieces) and pieces[n + 1].start <= pieces[n].end
        chains[n] = chains[n + 1] if joined else pieces[n].end
    days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
    tz = schedule.timezone
    return Timeline(
        midnight_epoch(first + _DAY, tz),
        midnight_epoch(last + _DAY, tz),
        tuple(p.start for p in pieces),
        tuple(p.end for p in pieces),
        tuple(p.reason for p in pieces),
        tuple(chains),
        tuple(midnight_epoch(day, tz) for day in days),
        tuple(closed_reason(schedule, day) for day in days),
    )


def closed_reason(schedule: Schedule, day: date) -> str:
    """What to say when the unit is closed on ``day``: the deciding layer's label."""
    plan = schedule.day_plan(day)
    return CLOSED_LABEL if plan.layer == LAYER_WEEK else plan.reason


def _normalised(schedule: Schedule, first: date, last: date) -> list[Span]:
    """Pieces in order of start, clipped so that none overlaps the one before."""
    pieces: list[Span] = []
    day = first
    while day <= last:
        for span in schedule.spans(day):
            if pieces and span.start < pieces[-1].end:
                if span.end <= pieces[-1].end:
                    continue
                span = Span(pieces[-1].end, span.end, span.reason)
            pieces.append(span)
        day += _DAY
    return pieces
