"""The ``phoneservice`` command line (SPEC §8).

Exit codes: 0 success, 1 runtime failure, 2 invalid input or configuration; messages
go to stderr and never as a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from phoneservice import exports
from phoneservice.domain.localtime import iso, parse_day, parse_instant
from phoneservice.registry import ConfigError, Registry, UnknownUnitError, load_registry
from phoneservice.services import HoursService, system_clock
from phoneservice.settings import Settings
from phoneservice.shapes import day_shape, deadline_shape, interval_text, status_shape

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2


class UsageError(Exception):
    """Invalid input on the command line (exit code 2)."""


class _Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit with code 2 and no traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print usage and the message on stderr, then exit 2."""
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INVALID)


def build_parser() -> argparse.ArgumentParser:
    """The parser for every command."""
    parser = _Parser(prog="phoneservice", description="Telefontider, opkald og tilbagekald.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    common = _Parser(add_help=False)
    common.add_argument(
        "--config",
        help="registry file (default: $PHONESERVICE_CONFIG or config/opening_hours.toml)",
    )
    common.add_argument("--json", action="store_true", help="print JSON")
    commands.add_parser("check-config", parents=[common], help="validate the registry")
    status = commands.add_parser("status", parents=[common], help="open or closed now")
    status.add_argument("units", nargs="*", metavar="UNIT")
    status.add_argument("--at", help="ISO 8601 time (local to the registry without offset)")
    hours = commands.add_parser("hours", parents=[common], help="effective hours per day")
    hours.add_argument("unit", metavar="UNIT")
    hours.add_argument("--from", dest="first", help="first date (default today)")
    hours.add_argument("--days", default="7", help="number of days (default 7)")
    due = commands.add_parser("deadline", parents=[common], help="callback deadline")
    due.add_argument("unit", metavar="UNIT")
    due.add_argument("--at", required=True, help="when the call was missed (ISO 8601)")
    export = commands.add_parser("export", parents=[common], help="export hours")
    export.add_argument("format", choices=exports.FORMATS)
    export.add_argument("units", nargs="+", metavar="UNIT")
    return parser


def main(argv: Sequence[str] | None = None, clock: Callable[[], datetime] = system_clock) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    settings = Settings.from_env()
    try:
        return COMMANDS[args.command](args, settings, clock)
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"{errors} error(s) in the registry", file=sys.stderr)
        return EXIT_INVALID
    except UnknownUnitError as exc:
        print(f"phoneservice: error: unknown unit {exc.args[0]!r}", file=sys.stderr)
        return EXIT_INVALID
    except UsageError as exc:
        print(f"phoneservice: error: {exc}", file=sys.stderr)
        return EXIT_INVALID
    except Exception as exc:  # the last line of defence: a message, never a traceback
        print(f"phoneservice: failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return EXIT_FAILURE


def _service(
    args: argparse.Namespace, settings: Settings, clock: Callable[[], datetime]
) -> HoursService:
    """Load the registry named on the command line and wrap it in the hours service."""
    path = args.config or settings.config
    today = clock().date()
    return HoursService(load_registry(path, today), clock)


def _instant(text: str, registry: Registry, flag: str = "--at") -> datetime:
    """Parse a time given on the command line."""
    try:
        return parse_instant(text, registry.timezone)
    except ValueError as exc:
        raise UsageError(f"{flag}: {text!r} is not an ISO 8601 time ({exc})") from exc


def _emit(args: argparse.Namespace, data: Any, lines: Sequence[str]) -> int:
    """Print JSON or text lines."""
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print("\n".join(lines))
    return EXIT_OK


def cmd_check_config(
    args: argparse.Namespace, settings: Settings, clock: Callable[[], datetime]
) -> int:
    """Validate the registry: warnings and errors on stderr, a summary on stdout."""
    service = _service(args, settings, clock)
    registry = service.registry
    for warning in registry.warnings:
        print(warning, file=sys.stderr)
    summary = {
        "file": registry.path,
        "units": len(registry.units),
        "errors": 0,
        "warnings": len(registry.warnings),
    }
    line = f"{registry.path}: OK, {len(registry.units)} units, {len(registry.warnings)} warning(s)"
    return _emit(args, summary, [line])


def cmd_status(args: argparse.Namespace, settings: Settings, clock: Callable[[], datetime]) -> int:
    """Open or closed, now or at ``--at``."""
    service = _service(args, settings, clock)
    at = _instant(args.at, service.registry) if args.at else None
    found = service.status(args.units, at)
    return _emit(args, [status_shape(e) for e in found], [_status_line(e) for e in found])


def _status_line(entry: Any) -> str:
    """One human line of status."""
    state = entry.status
    if state.open:
        change = f"lukker {_short(state.closes_at)}" if state.closes_at else "lukker ikke"
        word = "ÅBEN  "
    else:
        change = f"åbner {_short(state.next_open)}" if state.next_open else "åbner ikke i år"
        word = "LUKKET"
    return f"{entry.unit.id:<24} {word} {change:<28} {state.reason}"


def _short(value: datetime | None) -> str:
    """``2026-12-28 10:00`` for text output."""
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def cmd_hours(args: argparse.Namespace, settings: Settings, clock: Callable[[], datetime]) -> int:
    """Effective intervals per day, with the reason of each day."""
    service = _service(args, settings, clock)
    first = _day(args.first, "--from") if args.first else None
    days = _days(args.days)
    plans = service.hours(args.unit, first, days)
    lines = [
        f"{p.day.isoformat()} {p.day.strftime('%a'):<4}"
        f"{', '.join(interval_text(i) for i in p.intervals) or 'lukket':<28}{p.reason}"
        for p in plans
    ]
    return _emit(args, [day_shape(p) for p in plans], lines)


def _day(text: str, flag: str) -> Any:
    """Parse a date given on the command line."""
    try:
        return parse_day(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {text!r} is not a date (YYYY-MM-DD)") from exc


def _days(text: str) -> int:
    """Parse ``--days``: a whole number from 1 to 3660."""
    if not text.isdigit() or not 1 <= int(text) <= 3660:
        raise UsageError(f"--days: {text!r} must be a whole number from 1 to 3660")
    return int(text)


def cmd_deadline(
    args: argparse.Namespace, settings: Settings, clock: Callable[[], datetime]
) -> int:
    """The callback deadline for a call missed at ``--at``."""
    service = _service(args, settings, clock)
    found = service.deadline(args.unit, _instant(args.at, service.registry))
    shape = deadline_shape(found)
    return _emit(
        args,
        shape,
        [
            f"{found.unit.id}: modtaget {iso(found.received_at)}, "
            f"kvitteres senest {iso(found.due_at)}"
        ],
    )


def cmd_export(args: argparse.Namespace, settings: Settings, clock: Callable[[], datetime]) -> int:
    """Write an export of one or more units to stdout."""
    service = _service(args, settings, clock)
    units = service.units(args.units)
    sys.stdout.write(exports.render(args.format, service.registry, units, service.now()))
    return EXIT_OK


COMMANDS: dict[str, Callable[[argparse.Namespace, Settings, Callable[[], datetime]], int]] = {
    "check-config": cmd_check_config,
    "status": cmd_status,
    "hours": cmd_hours,
    "deadline": cmd_deadline,
    "export": cmd_export,
}
