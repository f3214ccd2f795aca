"""Commands over the callback queue: callbacks (the list of SPEC §8) and purge (SPEC §11)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from phoneservice.cli.common import Clock, common_options, emit, services
from phoneservice.domain.callbacks.rules import STATES
from phoneservice.present import wording
from phoneservice.present.shapes import callback_shape, local_iso
from phoneservice.settings import Settings

if TYPE_CHECKING:  # imported by the services when a command needs them (SQLAlchemy)
    from phoneservice.services.callbacks import CallbackService, PurgeReport


def register(commands: Any) -> None:
    """Add the callback commands to the parser."""
    common = common_options()
    listing = commands.add_parser("callbacks", parents=[common])
    listing.add_argument("--unit")
    listing.add_argument("--state", choices=STATES)
    listing.set_defaults(run=cmd_callbacks)
    actions = listing.add_subparsers(dest="action", parser_class=type(listing))
    call = actions.add_parser("call", parents=[common], help="place the call through the PBX")
    call.add_argument("id", type=int, help="the callback task")
    call.add_argument(
        "--user",
        default=os.environ.get("USER") or "cli",
        help="who calls: the phone set on this account rings first (user device)",
    )
    call.add_argument("--confirm-closed", action="store_true", help="call although closed")
    call.set_defaults(run=cmd_call)
    purge = commands.add_parser("purge", parents=[common])
    purge.set_defaults(run=cmd_purge)


def callback_service(args: argparse.Namespace, settings: Settings, clock: Clock) -> CallbackService:
    """The callback service over the registry and the database."""
    return services(args, settings, clock).callbacks


def cmd_callbacks(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """List callback tasks, overdue first, then by due time."""
    service = callback_service(args, settings, clock)
    if args.unit is not None:
        service.registry.unit(args.unit)  # an unknown unit is invalid input
    tz = service.registry.timezone
    shapes = [callback_shape(view, tz) for view in service.list(args.unit, args.state)]
    return emit(args, shapes, [_callback_line(s) for s in shapes] or ["no callbacks"])


def cmd_call(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Ask the active worker to place a callback call (it rings the user's own phone first)."""
    service = callback_service(args, settings, clock)
    placed = service.place_call(args.id, args.user, confirm_closed=args.confirm_closed)
    device = placed.view.callback.attempts[-1].agent_device
    shape = {
        "callback": callback_shape(placed.view, service.registry.timezone),
        "channel_id": placed.channel_id,
    }
    line = (
        f"#{args.id}: the worker calls {device} first, then the citizen "
        f"(ChannelId {placed.channel_id})"
    )
    return emit(args, shape, [line])


def cmd_purge(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Erase caller numbers past retention now, and old login attempts and audit entries;
    print what went."""
    found = services(args, settings, clock)
    report, pruned = found.purge()
    shape = purge_shape(report, found.registry.callbacks.retention_days, found.registry.timezone)
    shape |= {"login_attempts": pruned.login_attempts, "audit_entries": pruned.audit_entries}
    line = (
        f"{report.callbacks} callback(s) and {report.calls} call(s) lost their number, "
        f"{report.expired} open callback(s) expired "
        f"(retention {shape['retention_days']} days, cutoff {shape['cutoff']}); "
        f"{pruned.login_attempts} login attempt(s) older than {found.settings.login_attempt_days} "
        f"days and {pruned.audit_entries} audit entr(y/ies) older than "
        f"{found.settings.audit_days} days deleted"
    )
    return emit(args, shape, [line])


def purge_shape(report: PurgeReport, retention_days: int, tz: ZoneInfo) -> dict[str, Any]:
    """``purge --json``: when it ran, the cutoff, how many tasks and calls were erased."""
    return {
        "purged_at": local_iso(report.now, tz),
        "retention_days": retention_days,
        "cutoff": local_iso(report.cutoff, tz),
        "callbacks": report.callbacks,
        "calls": report.calls,
        "expired": report.expired,
    }


def _callback_line(shape: dict[str, Any]) -> str:
    """One human line per task."""
    late = "FORSINKET " if shape["overdue"] else ""
    state = wording.CALLBACK_STATES.get(shape["state"], shape["state"])
    return (
        f"#{shape['id']:<5} {shape['unit']:<16} {shape['caller_number'] or '-':<14} "
        f"{state:<12} frist {shape['due_at']}  {late}"
        f"{shape['missed_calls']} opkald, {len(shape['attempts'])} forsøg"
    ).rstrip()
