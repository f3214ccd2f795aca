"""Commands over stored calls: db upgrade and rebuild-rollup, ingest, calls."""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from phoneservice.bootstrap import queue_log_file
from phoneservice.cli.common import EXIT_OK, Clock, UsageError, common_options, day, emit, services
from phoneservice.present import wording
from phoneservice.present.shapes import call_shape
from phoneservice.settings import Settings

DEFAULT_LIMIT = 200  # calls listed by default; --limit raises it


def register(commands: Any) -> None:
    """Add the storage commands to the parser."""
    common = common_options()
    db = commands.add_parser("db", parents=[common])
    db.add_argument("action", choices=["upgrade", "rebuild-rollup"])
    db.set_defaults(run=cmd_db)
    feed = commands.add_parser("ingest", parents=[common])
    feed.add_argument("files", nargs="+", metavar="FILE", type=Path)
    feed.add_argument("--pbx", default="pbx", help="the PBX the files come from (default: pbx)")
    feed.set_defaults(run=cmd_ingest)
    calls = commands.add_parser("calls", parents=[common])
    calls.add_argument("--unit")
    calls.add_argument("--from", dest="first", help="first date (YYYY-MM-DD; default today)")
    calls.add_argument("--to", dest="last", help="last date, inclusive (YYYY-MM-DD)")
    calls.add_argument(
        "--limit",
        type=_limit,
        default=DEFAULT_LIMIT,
        help=f"at most this many calls, the oldest first (default {DEFAULT_LIMIT})",
    )
    calls.set_defaults(run=cmd_calls)


def cmd_db(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Apply every migration; or recount the daily roll-up in the registry's time zone."""
    if args.action == "rebuild-rollup":
        found = services(args, settings, clock)
        found.calls.rebuild_rollup()
        zone = found.registry.timezone.key
        return emit(args, {"rollup": "rebuilt", "timezone": zone}, [f"roll-up rebuilt ({zone})"])
    # The registry's zone dates the days of the call roll-up that a migration may fill.
    services(args, settings, clock, migrate=True).connect()
    return emit(args, {"database": "upgraded"}, ["database schema is up to date"])


def cmd_ingest(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Log recorded AMI streams and queue_log files exactly as the live path would."""
    from phoneservice.services.ingest import ingest, split_inputs

    found = services(args, settings, clock)
    recordings, queue_logs = split_inputs(args.files, found.recordings)
    reader = queue_log_file(queue_logs) if queue_logs and recordings else None
    call_log = found.call_log(args.pbx, queue_log=reader)
    found.live_overrides.refresh()  # calls are judged by the overrides of their time
    report = ingest(call_log, recordings, queue_logs, found.recordings)
    shape = {"files": report.files, "messages": report.messages, "added": report.added}
    return emit(
        args,
        shape,
        [
            f"{report.files} file(s), {report.messages} message(s), "
            f"{report.added} new call(s) logged"
        ],
    )


def _limit(text: str) -> int:
    """``--limit``: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"--limit: {text!r} must be a whole number of at least 1")
    return int(text)


def cmd_calls(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """List logged calls, oldest first, today's unless dates are given; at most ``--limit``.

    An unknown unit or a reversed range exits 2. When more calls match than are shown,
    a note on stderr says so (stdout stays the list, text or JSON).
    """
    found = services(args, settings, clock)
    if args.unit:
        found.registry.unit(args.unit)  # UnknownUnitError: exit 2, as status and hours
    tz = found.registry.timezone
    first, last = _range(args, clock().astimezone(tz).date())
    start = datetime.combine(first, time(), tz) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), tz) if last else None
    calls = found.calls.calls(args.unit, start, end, args.limit + 1)
    shapes = [call_shape(record, tz) for record in calls[: args.limit]]
    emit(args, shapes, [_call_line(s) for s in shapes] or ["no calls"])
    if len(calls) > args.limit:
        print(
            f"phoneservice: more than {args.limit} calls match; these are the oldest"
            f" {args.limit}: narrow them with --unit, --from and --to, or raise --limit",
            file=sys.stderr,
        )
    return EXIT_OK


def _range(args: argparse.Namespace, today: date) -> tuple[date | None, date | None]:
    """The dates of ``--from`` and ``--to``; neither given: today (in the registry's zone)."""
    if not args.first and not args.last:
        return today, today
    first = day(args.first, "--from") if args.first else None
    last = day(args.last, "--to") if args.last else None
    if first and last and last < first:
        raise UsageError(f"--to {last.isoformat()} is before --from {first.isoformat()}")
    return first, last


def _call_line(shape: dict[str, Any]) -> str:
    """One human line per call."""
    hours = "i telefontid" if shape["during_hours"] else "uden for telefontid"
    outcome = wording.CALL_OUTCOMES.get(shape["outcome"], shape["outcome"])
    return (
        f"{shape['arrived_at']}  {shape['unit'] or '-':<16} {outcome:<10} "
        f"{shape['caller_number'] or 'skjult nummer':<14} vent {shape['wait_s'] or 0:>3}s  "
        f"{hours}"
    )
