"""What every command shares: the parser class, exit codes, output and loading."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any

from phoneservice import bootstrap
from phoneservice.bootstrap import Services
from phoneservice.domain.localtime import parse_day, parse_instant
from phoneservice.registry import Registry
from phoneservice.services.hours import HoursService
from phoneservice.settings import Settings

EXIT_OK, EXIT_FAILURE, EXIT_INVALID = 0, 1, 2
Clock = Callable[[], datetime]


class UsageError(Exception):
    """Invalid input on the command line (exit code 2)."""


class Parser(argparse.ArgumentParser):
    """An argument parser whose usage errors exit with code 2 and no traceback."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """Print usage and the message on stderr, then exit 2."""
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_INVALID)


def common_options(*, data: bool = True) -> Parser:
    """``--config`` and ``--json``, taken by every command.

    A command that prints no data (``data=False``: the processes, which print log lines)
    refuses ``--json`` with exit 2 and says where JSON log lines come from.
    """
    common = Parser(add_help=False)
    common.add_argument(
        "--config",
        help="registry file (default: $PHONESERVICE_CONFIG or config/opening_hours.toml)",
    )
    if data:
        common.add_argument("--json", action="store_true", help="print JSON")
    else:
        common.add_argument("--json", nargs=0, action=_NoJson, help=argparse.SUPPRESS)
    return common


class _NoJson(argparse.Action):
    """``--json`` on a command that prints no data: a usage error (exit 2)."""

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        command = parser.prog.split()[-1]
        parser.error(
            f"--json: `{command}` prints no data; for JSON log lines set"
            " PHONESERVICE_LOG_FORMAT=json"
        )


def with_config(args: argparse.Namespace, settings: Settings) -> Settings:
    """The settings with the registry named by ``--config``, when given."""
    return dataclasses.replace(settings, config=args.config) if args.config else settings


def services(
    args: argparse.Namespace, settings: Settings, clock: Clock, *, migrate: bool = False
) -> Services:
    """The process's services over the registry named on the command line (loaded now)."""
    return bootstrap.build(with_config(args, settings), clock, migrate=migrate)


def hours_service(args: argparse.Namespace, settings: Settings, clock: Clock) -> HoursService:
    """The hours service over the registry named on the command line, overrides included
    (read with the database's own driver: the registry commands import no SQLAlchemy)."""
    return bootstrap.build(with_config(args, settings), clock, quick_reads=True).hours


def instant(text: str, registry: Registry, flag: str = "--at") -> datetime:
    """Parse a time given on the command line (local to the registry without offset)."""
    try:
        return parse_instant(text, registry.timezone)
    except ValueError as exc:
        raise UsageError(f"{flag}: {text!r} is not an ISO 8601 time ({exc})") from exc


def day(text: str, flag: str) -> date:
    """Parse a date given on the command line."""
    try:
        return parse_day(text)
    except ValueError as exc:
        raise UsageError(f"{flag}: {text!r} is not a date (YYYY-MM-DD)") from exc


def emit(args: argparse.Namespace, data: Any, lines: Sequence[str]) -> int:
    """Print JSON or text lines; exit code 0."""
    if args.json:
        print(json.dumps(data, ensure_ascii=False, indent=2))
    else:
        print("\n".join(lines))
    return EXIT_OK
