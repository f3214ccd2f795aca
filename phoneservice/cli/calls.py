"""Commands over stored calls: db upgrade and rebuild-rollup, ingest, calls."""

from __future__ import annotations

import argparse
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from phoneservice.bootstrap import build_call_log, queue_log_file
from phoneservice.cli.common import EXIT_OK, Clock, common_options, day, emit, load
from phoneservice.present.shapes import call_shape
from phoneservice.registry import Registry
from phoneservice.services.callbacks import CallbackService
from phoneservice.services.calls import CallService
from phoneservice.services.clock import system_clock
from phoneservice.services.ingest import ingest, split_inputs
from phoneservice.settings import Settings
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.storage.migrate import upgrade


def register(commands: Any) -> None:
    """Add the storage commands to the parser."""
    common = common_options()
    db = commands.add_parser("db", parents=[common], help="database schema")
    db.add_argument("action", choices=["upgrade", "rebuild-rollup"])
    db.set_defaults(run=cmd_db)
    feed = commands.add_parser("ingest", parents=[common], help="log recorded AMI or queue_log")
    feed.add_argument("files", nargs="+", metavar="FILE", type=Path)
    feed.add_argument("--pbx", default="pbx", help="the PBX the files come from (default: pbx)")
    feed.set_defaults(run=cmd_ingest)
    calls = commands.add_parser("calls", parents=[common], help="logged calls")
    calls.add_argument("--unit")
    calls.add_argument("--from", dest="first", help="first date (YYYY-MM-DD)")
    calls.add_argument("--to", dest="last", help="last date, inclusive (YYYY-MM-DD)")
    calls.set_defaults(run=cmd_calls)


def call_service(
    settings: Settings, registry: Registry | None = None, clock: Clock = system_clock
) -> CallService:
    """The call service on the migrated database; given the registry, it also opens callbacks."""
    sessions = database_sessions(settings)
    if registry is None:
        return CallService(sessions)
    return CallService(sessions, CallbackService(sessions, registry, clock), registry.timezone)


def database_sessions(settings: Settings) -> sessionmaker[Session]:
    """Sessions on the configured database, migrated to the latest schema."""
    url = settings.database()
    upgrade(url)
    return session_factory(create_engine_for(url))


def cmd_db(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Apply every migration; or recount the daily roll-up in the registry's time zone."""
    if args.action == "rebuild-rollup":
        registry = load(args, settings, clock)
        service = CallService(database_sessions(settings), timezone=registry.timezone)
        service.rebuild_rollup()
        zone = registry.timezone.key
        return emit(args, {"rollup": "rebuilt", "timezone": zone}, [f"roll-up rebuilt ({zone})"])
    upgrade(settings.database())
    return emit(args, {"database": "upgraded"}, ["database schema is up to date"])


def cmd_ingest(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Log recorded AMI streams and queue_log files exactly as the live path would."""
    registry = load(args, settings, clock)
    service = call_service(settings, registry, clock)
    recordings, queue_logs = split_inputs(args.files)
    reader = queue_log_file(queue_logs) if queue_logs and recordings else None
    call_log = build_call_log(registry, args.pbx, service.store_for(args.pbx), queue_log=reader)
    report = ingest(call_log, recordings, queue_logs)
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
    """List logged calls, oldest first."""
    registry = load(args, settings, clock)
    tz = registry.timezone
    start = datetime.combine(day(args.first, "--from"), time(), tz) if args.first else None
    end = (
        datetime.combine(day(args.last, "--to") + timedelta(days=1), time(), tz)
        if args.last
        else None
    )
    found = call_service(settings).calls(args.unit, start, end)
    shapes = [call_shape(record, tz) for record in found]
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
