"""Commands over the registry: check-config, status, hours, deadline, export."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import datetime
from typing import Any

from phoneservice.cli.common import (
    EXIT_OK,
    Clock,
    UsageError,
    common_options,
    day,
    emit,
    hours_service,
    instant,
)
from phoneservice.domain.localtime import iso
from phoneservice.present import exports, wording
from phoneservice.present.exports import osm
from phoneservice.present.shapes import day_shape, deadline_shape, interval_text, status_shape
from phoneservice.registry import ConfigError, Problem
from phoneservice.registry.problems import format_path
from phoneservice.services.hours import UnitStatus
from phoneservice.settings import Settings


def register(commands: Any) -> None:
    """Add the registry commands to the parser."""
    common = common_options()
    check = commands.add_parser("check-config", parents=[common])
    check.set_defaults(run=cmd_check_config)
    status = commands.add_parser("status", parents=[common])
    status.add_argument("units", nargs="*", metavar="UNIT")
    status.add_argument("--at", help="ISO 8601 time (local to the registry without offset)")
    status.set_defaults(run=cmd_status)
    hours = commands.add_parser("hours", parents=[common])
    hours.add_argument("unit", metavar="UNIT")
    hours.add_argument("--from", dest="first", help="first date (default today)")
    hours.add_argument("--days", default="7", help="number of days (default 7)")
    hours.set_defaults(run=cmd_hours)
    due = commands.add_parser("deadline", parents=[common])
    due.add_argument("unit", metavar="UNIT")
    due.add_argument("--at", help="when the call was missed (ISO 8601; default: now)")
    due.set_defaults(run=cmd_deadline)
    export = commands.add_parser("export", parents=[common])
    export.add_argument("format", choices=exports.FORMATS)
    export.add_argument("units", nargs="+", metavar="UNIT")
    export.set_defaults(run=cmd_export)


def cmd_check_config(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Validate the registry: problems on stderr, a summary on stdout (JSON with --json)."""
    try:
        registry = hours_service(args, settings, clock).registry
    except ConfigError as exc:
        if args.json:
            print(json.dumps(_problems_summary(args, settings, exc.problems), ensure_ascii=False))
        raise
    for warning in registry.warnings:
        print(warning, file=sys.stderr)
    count, warned = len(registry.units), len(registry.warnings)
    summary = {
        "file": registry.path,
        "units": count,
        "errors": 0,
        "warnings": warned,
        "problems": [_problem_shape(p) for p in registry.warnings],
    }
    units = "unit" if count == 1 else "units"
    return emit(args, summary, [f"{registry.path}: OK, {count} {units}, {warned} warning(s)"])


def _problems_summary(
    args: argparse.Namespace, settings: Settings, problems: list[Problem]
) -> dict[str, Any]:
    """The ``--json`` summary of an invalid registry."""
    errors = sum(p.severity == "error" for p in problems)
    return {
        "file": args.config or settings.config,
        "units": None,
        "errors": errors,
        "warnings": len(problems) - errors,
        "problems": [_problem_shape(p) for p in problems],
    }


def _problem_shape(problem: Problem) -> dict[str, Any]:
    """One problem as JSON: where, what, and the message as printed."""
    return {
        "severity": problem.severity,
        "line": problem.line,
        "path": format_path(problem.path),
        "message": str(problem),
    }


def cmd_status(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Open or closed, now or at ``--at``."""
    service = hours_service(args, settings, clock)
    at = instant(args.at, service.registry) if args.at else None
    found = service.status(args.units, at)
    now = at or service.now()
    return emit(args, [status_shape(e) for e in found], [_status_line(e, now) for e in found])


def _status_line(entry: UnitStatus, now: datetime) -> str:
    """One human line of status, in the board's words ("lukker kl. 14:00")."""
    state = entry.status
    word = "ÅBEN  " if state.open else "LUKKET"
    return f"{entry.unit.id:<24} {word} {wording.change(state, now):<30} {state.reason}"


def cmd_hours(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Effective intervals per day, with the reason of each day."""
    service = hours_service(args, settings, clock)
    first = day(args.first, "--from") if args.first else None
    plans = service.hours(args.unit, first, _days(args.days))
    lines = [
        f"{p.day.isoformat()} {wording.WEEKDAYS[p.day.weekday()][:3]:<4}"
        f"{', '.join(interval_text(i) for i in p.intervals) or 'lukket':<28}{p.reason}"
        for p in plans
    ]
    return emit(args, [day_shape(p) for p in plans], lines)


def _days(text: str) -> int:
    """Parse ``--days``: a whole number from 1 to 3660."""
    if not text.isdigit() or not 1 <= int(text) <= 3660:
        raise UsageError(f"--days: {text!r} must be a whole number from 1 to 3660")
    return int(text)


def cmd_deadline(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """The callback deadline for a call missed at ``--at`` (now by default)."""
    service = hours_service(args, settings, clock)
    missed = instant(args.at, service.registry) if args.at else service.now()
    found = service.deadline(args.unit, missed)
    line = (
        f"{found.unit.id}: modtaget {iso(found.received_at)}, kvitteres senest {iso(found.due_at)}"
    )
    return emit(args, deadline_shape(found), [line])


def cmd_export(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Write an export of one or more units to stdout; ``--json``: one item per unit."""
    service = hours_service(args, settings, clock)
    units, registry, now = service.units(args.units), service.registry, service.now()
    if not args.json:
        sys.stdout.write(exports.render(args.format, registry, units, now))
        if args.format == "osm":  # stdout stays the bare value; the period goes beside it
            print(osm.period_note(now.date()), file=sys.stderr)
        return EXIT_OK
    items = [
        _export_item(args.format, exports.render(args.format, registry, [u], now), u.id, now)
        for u in units
    ]
    return emit(args, items, [])


def _export_item(kind: str, text: str, unit_id: str, now: datetime) -> dict[str, Any]:
    """``export --json`` item: the unit, the format and the value (JSON-LD as JSON); an OSM
    item also ``exact_from`` and ``exact_to``, the dates the value is exact for."""
    value: Any = json.loads(text) if kind == "jsonld" else text.rstrip("\n")
    item = {"unit": unit_id, "format": kind, "value": value}
    if kind == "osm":
        first, last = osm.exact_period(now.date())
        item.update(exact_from=first.isoformat(), exact_to=last.isoformat())
    return item
