"""The one call classifier: a finished call's facts in, its outcome and hours out (SPEC §5.1).

Every witness of a call (the AMI stream, Asterisk's queue_log) first states what it saw in
the same plain words, :class:`CallFacts`, and then asks :func:`classify`. So the same call
gets the same ``outcome``, ``during_hours`` and ``short_abandon`` whichever witness told
it. Nothing here knows an AMI header or a queue_log field.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from phoneservice.domain.calls.records import (
    ABANDONED,
    ANSWERED,
    CLOSED,
    UNANSWERED,
    UNKNOWN,
    Segment,
    known_sum,
)

IsOpen = Callable[[str, datetime], bool]

# The words the dialplan's hours variable may hold (the shipped dialplan sets open/closed).
_HOURS_OPEN = frozenset({"open", "1", "yes", "true", "on"})
_HOURS_CLOSED = frozenset({"closed", "0", "no", "false", "off"})


def pbx_says_open(value: str | None) -> bool | None:
    """What the dialplan's hours variable says: open (True), closed (False) or nothing."""
    text = (value or "").strip().casefold()
    if text in _HOURS_OPEN:
        return True
    return False if text in _HOURS_CLOSED else None


@dataclass(frozen=True, slots=True)
class CallFacts:
    """What a witness saw of one finished call, in no witness's own words."""

    endings: tuple[str, ...]  # how each queue visit ended, in order (a Segment outcome)
    wait_s: int | None  # seconds queued over every visit; None when no witness knows
    unit_open: bool | None  # the registry at arrival; None when the call has no unit
    end_seen: bool = True  # False when the end was lost (a gap in the witness)
    pbx_closed: bool = False  # the dialplan itself said closed (its hours decision)

    @classmethod
    def of(
        cls,
        segments: Iterable[Segment],
        *,
        unit_open: bool | None,
        end_seen: bool = True,
        pbx_closed: bool = False,
    ) -> CallFacts:
        """The facts of a call whose queue visits are ``segments``."""
        visits = tuple(segments)
        return cls(
            endings=tuple(visit.outcome for visit in visits),
            wait_s=known_sum(visit.wait_s for visit in visits),
            unit_open=unit_open,
            end_seen=end_seen,
            pbx_closed=pbx_closed,
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """The classifier's answer for one call."""

    outcome: str
    during_hours: bool
    short_abandon: bool


def open_at_arrival(unit: str | None, arrived_at: datetime, is_open: IsOpen) -> bool | None:
    """The registry's answer for the call's unit at its arrival; None when it has no unit."""
    return None if unit is None else is_open(unit, arrived_at)


def classify(facts: CallFacts, short_abandon_seconds: int) -> Verdict:
    """Outcome, phone hours and short abandon of a finished call."""
    outcome = _outcome(facts)
    return Verdict(
        outcome=outcome,
        during_hours=facts.unit_open is True,
        short_abandon=_is_short(outcome, facts.wait_s, short_abandon_seconds),
    )


def _outcome(facts: CallFacts) -> str:
    """The last visit's ending, unless the call never reached an agent while closed."""
    last = facts.endings[-1] if facts.endings else None
    if last in (ANSWERED, UNKNOWN):
        return last  # an unknown end may still have been answered: not called closed
    if ANSWERED not in facts.endings and _closed(facts):
        return CLOSED
    if last is None:  # never queued: left in the menu, or the end was not seen
        return UNANSWERED if facts.end_seen else UNKNOWN
    return last


def _closed(facts: CallFacts) -> bool:
    """Closed by the registry; by the dialplan only when that kept the call out of a queue."""
    return facts.unit_open is False or (not facts.endings and facts.pbx_closed)


def _is_short(outcome: str, wait_s: int | None, threshold: int) -> bool:
    """An abandon known to be shorter than the threshold; an unknown wait is not short.

    A short abandon is set apart in the reports, so calling one short needs a wait that
    shows it: an abandon of unknown length counts as a full one.
    """
    return outcome == ABANDONED and wait_s is not None and wait_s < threshold
