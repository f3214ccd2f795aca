"""Commands over stored calls: db upgrade and rebuild-rollup, ingest, calls."""

from __future__ import annotations

import argparse
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from phoneservice.bootstrap import queue_log_file
from phoneservice.cli.common import EXIT_OK, Clock, UsageError, common_options, day, emit, services
from phoneservice.present.shapes import call_shape
from phoneservice.settings import Settings


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
    calls.add_argument("--from", dest="first", help="first date (YYYY-MM-DD)")
    calls.add_argument("--to", dest="last", help="last date, inclusive (YYYY-MM-DD)")
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


def cmd_calls(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """List logged calls, oldest first; an unknown unit or a reversed range exits 2."""
    found = services(args, settings, clock)
    if args.unit:
        found.registry.unit(args.unit)  # UnknownUnitError: exit 2, as status and hours
    first = day(args.first, "--from") if args.first else None
    last = day(args.last, "--to") if args.last else None
    if first and last and last < first:
        raise UsageError(f"--to {last.isoformat()} is before --from {first.isoformat()}")
    tz = found.registry.timezone
    start = datetime.combine(first, time(), tz) if first else None
    end = datetime.combine(last + timedelta(days=1), time(), tz) if last else None
    calls = found.calls.calls(args.unit, start, end)
    shapes = [call_shape(record, tz) for record in calls]
    lines = [_call_line(s) for s in shapes]
    emit(args, shapes, lines or ["no calls"])
    return EXIT_OK


def _call_line(shape: dict[str, Any]) -> str:
    """One human line per call."""
    hours = "i telefontid" if shape["during_hours"] else "uden for telefontid"
    return (
        f"{shape['arrived_at']}  {shape['unit'] or '-':<16} {shape['outcome']:<10} "
        f"{shape['caller_number'] or 'skjult nummer':<14} vent {shape['wait_s'] or 0:>3}s  "
        f"{hours}"
    )
