"""Manual overrides: a unit closed (or opened) between two instants, whatever its hours say.

An override acts on instants, not dates. :mod:`phoneservice.domain.hours.timeline` merges
a unit's overrides into its open pieces, so one structure answers every question.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from phoneservice.domain.errors import DomainError, require_aware
from phoneservice.domain.hours.schedule import Span


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

    @classmethod
    def as_stored(
        cls,
        unit: str,
        start: datetime,
        end: datetime,
        open: bool,
        reason: str,
        author: str,
        ended_at: datetime | None,
    ) -> Override | None:
        """The override a stored one applies: ended early at ``ended_at`` if it was, and
        none at all when it was ended before it began."""
        until = end if ended_at is None else min(end, ended_at)
        return None if until <= start else cls(unit, start, until, open, reason, author)


@dataclass(frozen=True, slots=True)
class Deciders:
    """Which override decides each stretch of time: ``overrides[k]`` from ``marks[k]`` on."""

    marks: tuple[int, ...] = ()
    overrides: tuple[Override | None, ...] = ()

    def at(self, t: float) -> Override | None:
        """The override in force at ``t`` (a closing one wins), or None."""
        k = bisect_right(self.marks, t) - 1
        return self.overrides[k] if k >= 0 else None


def deciders(overrides: Sequence[Override]) -> Deciders:
    """The deciding override between every two consecutive override bounds."""
    spans = [(o, o.span()) for o in overrides]
    marks = sorted({bound for _, span in spans for bound in (span.start, span.end)})
    return Deciders(tuple(marks), tuple(_deciding(spans, mark) for mark in marks))


def _deciding(spans: Iterable[tuple[Override, Span]], t: int) -> Override | None:
    """The first closing override in force at ``t``, else the first opening one, else None."""
    active = [o for o, span in spans if span.start <= t < span.end]
    active.sort(key=lambda o: o.open)  # stable: the caller's order breaks ties
    return active[0] if active else None
