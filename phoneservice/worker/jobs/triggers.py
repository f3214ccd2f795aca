"""An APScheduler 3.x trigger that fires exactly when a unit opens or closes."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta, tzinfo
from typing import NoReturn

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger

from phoneservice.domain.errors import require_aware
from phoneservice.domain.hours.schedule import Schedule
from phoneservice.domain.hours.status import Override, earliest_change

NextChange = Callable[[datetime], datetime | None]
# When no unit changes within the hours engine's horizon (only round-the-clock lines, or
# every line closed for over a year), ask again a day later rather than end the job:
# APScheduler removes a job whose trigger returns None, and an override may come.
RECHECK = timedelta(days=1)


class NextChangeTrigger(BaseTrigger):  # type: ignore[misc]  # APScheduler 3.x is untyped
    """Fires at the earliest instant at which a unit opens or closes, or an override of one
    starts or ends.

    The question is the hours service's (``HoursService.next_change``), asked afresh at
    every fire with the registry and the overrides in force then, so reloads, overrides,
    daylight-saving changes, holidays and half days are exact. It depends on the live
    process, so it lives in a memory job store and is rebuilt at start-up; it refuses to be
    pickled.
    """

    __slots__ = ("next_change", "timezone")

    def __init__(self, next_change: NextChange, tz: tzinfo) -> None:
        self.next_change = next_change
        self.timezone = tz

    @classmethod
    def over(
        cls,
        schedules: Mapping[str, Schedule],
        overrides: Sequence[Override] = (),
        tz: tzinfo | None = None,
    ) -> NextChangeTrigger:
        """A trigger over fixed schedules and overrides (the domain's answer, for tables)."""
        if not schedules:
            raise ValueError("NextChangeTrigger needs at least one schedule")
        zone = tz or next(iter(schedules.values())).timezone
        return cls(lambda at: earliest_change(schedules, at, overrides), zone)

    def get_next_fire_time(
        self, previous_fire_time: datetime | None, now: datetime
    ) -> datetime | None:
        """The first change strictly after both the previous fire and ``now``."""
        require_aware(now, "now")
        since = now.astimezone(UTC)
        if previous_fire_time is not None:
            since = max(since, previous_fire_time.astimezone(UTC))
        found = self.next_change(since)
        return (found or since + RECHECK).astimezone(self.timezone)

    def __getstate__(self) -> NoReturn:
        """Refuse persistence: the trigger depends on the live registry."""
        raise TypeError(
            "NextChangeTrigger holds the live registry: keep its job in a memory job store"
        )

    def __str__(self) -> str:
        return "next-change"

    def __repr__(self) -> str:
        return f"<NextChangeTrigger {self.next_change!r}>"


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
