"""Benchmark the hours engine against opening-hours-py (SPEC §12, first two rows).

    python bench/hours.py [--config config/opening_hours.toml] [--units 500]

Builds 500 schedules (the shipped units repeated, each copy's hours shifted by up to
an hour), writes each as an OSM ``opening_hours`` value with our own export, and
measures in the same run:

* the status of all 500 at one instant with ``statuses`` (warm: repeated calls on the
  same schedules, on a December Tuesday and in the summer closures, and with every tenth
  unit under a manual override, merged into its timeline; cold: fresh schedules with
  empty caches), beside opening-hours-py ``is_open`` on the 500 pre-parsed values (and
  parsed afresh, for the cold row; it has no overrides);
* ``next_open`` across the Christmas closures (Borgerservice at 2026-12-23 16:00
  opens 2027-01-04 10:00) beside opening-hours-py ``next_change``.

It checks that both libraries agree on open/closed for every unit, at the benchmark
instants and every 3 h 7 min for 60 days, prints any disagreement and exits 1 if one.
opening-hours-py is installed for the benchmark only: ``pip install opening-hours-py``.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib import metadata
from typing import Any, cast

from phoneservice.domain.hours.schedule import (
    DatedHours,
    Day,
    Interval,
    Schedule,
    Season,
    WeekHours,
)
from phoneservice.domain.hours.status import Override, status, statuses
from phoneservice.domain.hours.wallclock import MINUTES_PER_DAY
from phoneservice.present.exports.osm import opening_hours
from phoneservice.registry import Registry, load_registry

AT = "2026-12-15T11:50"  # a Tuesday late morning: lines open, at lunch, closed
CHRISTMAS_UNIT = "borgerservice"
CHRISTMAS_AT = "2026-12-23T16:00"  # closed from here until Monday 4 January 10:00
SUMMER_AT = "2027-07-12T10:00"  # week 28: PPR and Tandplejen closed for three weeks
CHRISTMAS_OPENS = "2027-01-04T10:00"
OVERRIDDEN_EVERY = 10  # every tenth unit is closed by a manual override around AT
SHIFTS = (0, 15, -15, 30, -30, 45, -45, 60, -60)  # minutes; copy n of a unit gets SHIFTS[n % 9]
TARGET_STATUS_MS = 2.0
TARGET_NEXT_OPEN_US = 50.0
INSTALL_HINT = "opening-hours-py is needed for the reference: pip install opening-hours-py"


@dataclass(frozen=True)
class Row:
    """One measured line: our median, the reference's median, their unit and a target."""

    what: str
    ours: float
    reference: float
    unit: str
    target: float | None


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; print the figures; 1 if the two libraries disagree."""
    args = _arguments(argv)
    reference = _reference()
    if reference is None:
        print(INSTALL_HINT, file=sys.stderr)
        return 2
    registry = load_registry(args.config, date.fromisoformat(AT[:10]))
    tz = registry.timezone
    at = datetime.fromisoformat(AT).replace(tzinfo=tz)
    schedules = build_schedules(registry, args.units)
    values = [opening_hours(s, at.date()) for s in schedules]
    parsed = [reference(value, timezone=tz) for value in values]
    instants = agreement_instants(at)
    wrong = disagreements(schedules, parsed, values, instants)
    print(_preamble(registry, schedules, at, len(instants), wrong))
    rows = measure(registry, schedules, values, parsed, reference, at)
    print(_table(rows))
    return 1 if wrong else 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/opening_hours.toml")
    parser.add_argument("--units", type=int, default=500)
    return parser.parse_args(argv)


def _reference() -> Any:
    """opening-hours-py's ``OpeningHours`` class, or None when it is not installed."""
    try:
        from opening_hours import OpeningHours
    except ImportError:
        return None
    return OpeningHours


def build_schedules(registry: Registry, count: int) -> list[Schedule]:
    """``count`` schedules: the registry's units over and over, hours shifted per copy."""
    units = list(registry.units.values())
    return [
        _shifted(units[n % len(units)].schedule, SHIFTS[n // len(units) % len(SHIFTS)])
        for n in range(count)
    ]


def _shifted(schedule: Schedule, minutes: int) -> Schedule:
    """A fresh copy of a schedule with every day's hours moved by ``minutes`` where they fit."""
    seasons = tuple(
        Season(s.name, _shift_week(s.week, minutes), s.first, s.last, s.weeks)
        for s in schedule.seasons
    )
    exceptions = {
        day: DatedHours(e.first, e.last, _shift_day(e.intervals, minutes), e.reason)
        for day, e in schedule.exceptions.items()
    }
    return Schedule(
        schedule.timezone,
        schedule.calendar,
        _shift_week(schedule.week, minutes),
        seasons,
        exceptions,
    )


def _shift_week(week: WeekHours, minutes: int) -> WeekHours:
    """Every day of a week moved by ``minutes`` where it fits."""
    return cast(WeekHours, tuple(_shift_day(day, minutes) for day in week))


def _shift_day(day: Day, minutes: int) -> Day:
    """A day's intervals moved by ``minutes``, or unchanged when they would leave the day."""
    if not day or day[0].start + minutes < 0 or day[-1].end + minutes > MINUTES_PER_DAY:
        return day
    return tuple(Interval(i.start + minutes, i.end + minutes) for i in day)


def fresh(schedules: Sequence[Schedule]) -> list[Schedule]:
    """New schedule objects with empty caches, for cold measurements."""
    return [_shifted(s, 0) for s in schedules]


def agreement_instants(at: datetime) -> list[datetime]:
    """The measured instants, and every 3 h 7 min for 60 days from ``at``."""
    christmas = datetime.fromisoformat(CHRISTMAS_AT).replace(tzinfo=at.tzinfo)
    step = timedelta(hours=3, minutes=7)
    summer = datetime.fromisoformat(SUMMER_AT).replace(tzinfo=at.tzinfo)
    return [at, christmas, summer, *(at + n * step for n in range(1, 60 * 24 * 60 // 187))]


def disagreements(
    schedules: Sequence[Schedule],
    parsed: Sequence[Any],
    values: Sequence[str],
    instants: Sequence[datetime],
) -> list[str]:
    """Every unit and instant on which the two libraries disagree about open or closed."""
    wrong = []
    for when in instants:
        ours = statuses([(s, ()) for s in schedules], when)
        for n, (state, oh) in enumerate(zip(ours, parsed, strict=True)):
            if state.open != oh.is_open(when):
                wrong.append(
                    f"#{n} at {when:%Y-%m-%d %H:%M}: ours open={state.open}, "
                    f"theirs open={not state.open} for {values[n]!r}"
                )
    return wrong


def measure(
    registry: Registry,
    schedules: Sequence[Schedule],
    values: Sequence[str],
    parsed: Sequence[Any],
    reference: Any,
    at: datetime,
) -> list[Row]:
    """The measured rows."""
    n = len(schedules)
    summer = datetime.fromisoformat(SUMMER_AT).replace(tzinfo=at.tzinfo)
    return [
        Row(f"status of {n}, warm", *_warm(schedules, parsed, at, 300), "ms", TARGET_STATUS_MS),
        Row(
            f"status of {n}, warm, {SUMMER_AT[:10]}",
            *_warm(schedules, parsed, summer, 30),
            "ms",
            TARGET_STATUS_MS,
        ),
        Row(
            f"status of {n}, {n // OVERRIDDEN_EVERY} overridden",
            *_warm(schedules, parsed, at, 300, overridden(len(schedules), at)),
            "ms",
            TARGET_STATUS_MS,
        ),
        Row(f"status of {n}, cold", *_cold(schedules, values, reference, at), "ms", None),
        Row(
            "next_open across Christmas",
            *_christmas(registry, reference),
            "µs",
            TARGET_NEXT_OPEN_US,
        ),
    ]


def overridden(count: int, at: datetime) -> list[Sequence[Override]]:
    """Per unit, its overrides: every tenth closed from half an hour before ``at`` for an hour."""
    brand = Override(
        "bench",
        at - timedelta(minutes=30),
        at + timedelta(minutes=30),
        False,
        "Brandalarm",
        "bench",
    )
    return [(brand,) if n % OVERRIDDEN_EVERY == 0 else () for n in range(count)]


def _warm(
    schedules: Sequence[Schedule],
    parsed: Sequence[Any],
    at: datetime,
    runs: int,
    overrides: Sequence[Sequence[Override]] = (),
) -> tuple[float, float]:
    """Median ms of ``statuses`` and of ``is_open`` on the pre-parsed values."""
    entries = [(s, overrides[n] if overrides else ()) for n, s in enumerate(schedules)]
    return (
        _median(lambda: statuses(entries, at), runs) * 1e3,
        _median(lambda: [oh.is_open(at) for oh in parsed], runs) * 1e3,
    )


def _cold(
    schedules: Sequence[Schedule], values: Sequence[str], reference: Any, at: datetime
) -> tuple[float, float]:
    """Median ms on fresh schedules, and of parsing the values afresh plus ``is_open``."""
    tz = at.tzinfo
    return (
        _median_fresh(
            lambda: [(s, ()) for s in fresh(schedules)], lambda batch: statuses(batch, at), runs=20
        )
        * 1e3,
        _median(lambda: [reference(v, timezone=tz).is_open(at) for v in values], 20) * 1e3,
    )


def _christmas(registry: Registry, reference: Any) -> tuple[float, float]:
    """Median µs of our ``next_open`` and the reference's ``next_change``, checked equal."""
    tz = registry.timezone
    schedule = registry.unit(CHRISTMAS_UNIT).schedule
    at = datetime.fromisoformat(CHRISTMAS_AT).replace(tzinfo=tz)
    oh = reference(opening_hours(schedule, at.date()), timezone=tz)
    expected = datetime.fromisoformat(CHRISTMAS_OPENS).replace(tzinfo=tz)
    found = (status(schedule, at).next_open, oh.next_change(at))
    if found != (expected, expected):
        raise SystemExit(f"next_open {found[0]} / next_change {found[1]}, expected {expected}")
    per_call = 100
    ours = _median(lambda: [status(schedule, at) for _ in range(per_call)], runs=200)
    theirs = _median(lambda: [oh.next_change(at) for _ in range(per_call)], runs=200)
    return ours / per_call * 1e6, theirs / per_call * 1e6


def _median(work: Callable[[], object], runs: int) -> float:
    """Median seconds of ``runs`` calls of ``work`` (one untimed call first; no GC)."""
    work()
    return _median_fresh(lambda: None, lambda _: work(), runs)


def _median_fresh(prepare: Callable[[], Any], work: Callable[[Any], object], runs: int) -> float:
    """Median seconds of ``work(prepare())``, timing only ``work``."""
    times = []
    gc.disable()
    try:
        for _ in range(runs):
            data = prepare()
            start = time.perf_counter()
            work(data)
            times.append(time.perf_counter() - start)
    finally:
        gc.enable()
    return statistics.median(times)


def _preamble(
    registry: Registry,
    schedules: Sequence[Schedule],
    at: datetime,
    checked: int,
    wrong: Sequence[str],
) -> str:
    """Where and what was measured, and whether the two libraries agree."""
    opened = sum(s.open for s in statuses([(s, ()) for s in schedules], at))
    lines = [
        f"hours engine benchmark, {datetime.now():%Y-%m-%d}, Python {platform.python_version()}, "
        f"{os.cpu_count()} cores, {platform.machine()} {_cpu()}",
        f"reference: opening-hours-py {metadata.version('opening-hours-py')}",
        f"{len(schedules)} schedules from {len(registry.units)} units of {registry.path}, "
        f"hours shifted by up to ±{max(SHIFTS)} min; at {at.isoformat()}: {opened} open",
        f"agreement on open/closed at {checked} instants ({AT}, {CHRISTMAS_AT}, {SUMMER_AT}"
        f" and every 3 h 7 min for 60 days): {checked * len(schedules) - len(wrong)}"
        f"/{checked * len(schedules)}",
        *(f"  DISAGREES {line}" for line in wrong[:20]),
    ]
    return "\n".join(lines)


def _cpu() -> str:
    """The CPU model, where Linux tells it."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as info:
            return next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                "",
            )
    except OSError:
        return ""


def _table(rows: Sequence[Row]) -> str:
    """The figures, the ratio (reference / ours: above 1 means we are faster), the targets."""
    lines = [f"\n{'what':<30}{'phoneservice':>14}{'opening-hours-py':>18}{'ratio':>8}  target"]
    for row in rows:
        verdict = ""
        if row.target is not None:
            met = row.ours <= row.target and row.ours <= row.reference
            verdict = f"<= {row.target:g} {row.unit} and <= reference: {'met' if met else 'MISSED'}"
        lines.append(
            f"{row.what:<30}{row.ours:>11.2f} {row.unit}{row.reference:>15.2f} {row.unit}"
            f"{row.reference / row.ours:>7.2f}x  {verdict}"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
