"""An APScheduler 3.x trigger that fires exactly when a unit opens or closes."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NoReturn

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from phoneservice.domain.errors import require_aware
from phoneservice.domain.hours.schedule import Schedule
from phoneservice.domain.hours.status import Override, unit_statuses

OverrideSource = Callable[[], Sequence[Override]]
# When no unit changes within the hours engine's horizon (only round-the-clock lines, or
# every line closed for over a year), ask again a day later rather than end the job:
# APScheduler removes a job whose trigger returns None, and an override may come.
RECHECK = timedelta(days=1)


def no_overrides() -> Sequence[Override]:
    """The override source while no overrides are stored."""
    return ()


class NextChangeTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3.x is untyped
    """Fires at the earliest instant at which any of ``schedules`` opens or closes, or an
    override of one of them starts or ends.

    The question is the hours engine's (:func:`earliest_change`), asked afresh at every fire
    with the overrides in force then, so daylight-saving changes, holidays and half days are
    exact. The trigger holds the live registry's schedules and an override source, so it
    lives in a memory job store and is rebuilt at start-up; it refuses to be pickled.
    """

    __slots__ = ("overrides", "schedules", "timezone")

    def __init__(
        self,
        schedules: Mapping[str, Schedule],
        overrides: OverrideSource = no_overrides,
        tz: tzinfo | None = None,
    ) -> None:
        if not schedules:
            raise ValueError("NextChangeTrigger needs at least one schedule")
        self.schedules = dict(schedules)
        self.overrides = overrides
        self.timezone = tz or next(iter(self.schedules.values())).timezone

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first change strictly after both the previous fire and ``now``."""
        require_aware(now, "now")
        since = now.astimezone(UTC)
        if previous_fire_time is not None:
            since = max(since, previous_fire_time.astimezone(UTC))
        found = earliest_change(self.schedules, since, self.overrides())
        return (found or since + RECHECK).astimezone(self.timezone)

    def __getstate__(self) -> NoReturn:
        """Refuse persistence: the trigger depends on the live registry."""
        raise TypeError(
            "NextChangeTrigger holds the live registry: keep its job in a memory job store"
        )

    def __str__(self) -> str:
        return f"next-change[{len(self.schedules)} units]"

    def __repr__(self) -> str:
        return f"<NextChangeTrigger units={sorted(self.schedules)!r}>"


def earliest_change(
    schedules: Mapping[str, Schedule], at: datetime, overrides: Sequence[Override] = ()
) -> datetime | None:
    """The earliest next change after ``at`` among the units, or None.

    Each unit's state comes from :func:`unit_statuses`, the function the hours service
    asks, so the trigger and every other door agree on when a unit opens or closes.
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


class FirstPassCronTrigger(CronTrigger):  # type: ignore[misc]  # APScheduler 3.x is untyped
    """A cron trigger that fires once at a wall-clock time that occurs twice (fall back).

    APScheduler 3.x fires a daily 02:30 job at both 02:30+02:00 and 02:30+01:00 on the
    night summer time ends; like the hours engine (SPEC §4.1) this uses the first pass.
    On the spring night 02:30 does not exist and APScheduler fires an hour later in wall
    time (03:30+02:00), once.
    Module-level and stateless beyond its parent, so the SQLAlchemy job store can pickle it.
    """

    __slots__ = ()

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The parent's next fire time, skipping the second pass of a repeated hour."""
        fire: datetime | None = super().get_next_fire_time(previous_fire_time, now)
        while fire is not None and _second_pass(fire, self.timezone):
            fire = super().get_next_fire_time(fire, fire)
        # A wall time in the spring gap comes back as such (02:30+01:00); say it as 03:30+02:00.
        return None if fire is None else fire.astimezone(UTC).astimezone(self.timezone)


def _second_pass(instant: datetime, tz: tzinfo) -> bool:
    """Whether ``instant`` is the later of two instants with the same local wall time."""
    local = instant.astimezone(tz)
    first = local.replace(tzinfo=None).replace(tzinfo=tz, fold=0)
    return first.utcoffset() != local.utcoffset()
