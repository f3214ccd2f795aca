"""``user add|passwd|device|list``: local accounts (SPEC §8, §11).

A password is read from the terminal without echo, or from stdin with ``--password-stdin``
(for provisioning scripts); it is never an argument, where ``ps`` and shell history see it.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TYPE_CHECKING, Any

from phoneservice.cli.common import Clock, UsageError, common_options, emit, services
from phoneservice.domain.accounts import ROLES
from phoneservice.settings import Settings

if TYPE_CHECKING:  # imported by the services when a command needs them (argon2, SQLAlchemy)
    from phoneservice.services.accounts import AccountService, User


def register(commands: Any) -> None:
    """Add ``user`` and its actions to the parser."""
    user = commands.add_parser("user")
    actions = user.add_subparsers(dest="action", required=True, parser_class=type(user))
    add = actions.add_parser("add", parents=[common_options()], help="create an account")
    add.add_argument("username")
    add.add_argument("--role", choices=ROLES, default="agent")
    add.add_argument("--unit", action="append", default=[], help="a unit an agent serves")
    add.add_argument("--name", help="the name shown in the interface")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(run=cmd_add)
    passwd = actions.add_parser("passwd", parents=[common_options()], help="set a password")
    passwd.add_argument("username")
    passwd.add_argument("--password-stdin", action="store_true")
    passwd.set_defaults(run=cmd_passwd)
    device = actions.add_parser(
        "device", parents=[common_options()], help="set the agent's own phone for placed calls"
    )
    device.add_argument("username")
    device.add_argument(
        "device", nargs="?", help="e.g. PJSIP/anne: must match [pbx] agent_device_pattern"
    )
    device.add_argument("--clear", action="store_true", help="remove the account's phone")
    device.set_defaults(run=cmd_device)
    listing = actions.add_parser("list", parents=[common_options()], help="list accounts")
    listing.set_defaults(run=cmd_list)


def accounts(args: argparse.Namespace, settings: Settings, clock: Clock) -> AccountService:
    """The account service over the database."""
    return services(args, settings, clock).accounts


def cmd_add(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Create an account; an agent's units must exist in the registry."""
    found = services(args, settings, clock)
    for unit in args.unit:
        found.registry.unit(unit)  # an unknown unit is invalid input
    if args.role != "agent" and args.unit:
        raise UsageError("--unit is for agents; viewers and admins are not tied to units")
    user = found.accounts.add_user(
        args.username,
        read_password(args.password_stdin),
        args.role,
        display_name=args.name,
        units=args.unit,
    )
    return emit(args, user_shape(user), [f"created {user_line(user_shape(user))}"])


def cmd_passwd(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Set a new password for an account."""
    accounts(args, settings, clock).set_password(args.username, read_password(args.password_stdin))
    return emit(args, {"username": args.username.lower()}, [f"password set for {args.username}"])


def cmd_device(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Set or clear the phone a placed call rings first; checked against the registry."""
    if (args.device is None) == (not args.clear):
        raise UsageError("give a DEVICE (e.g. PJSIP/anne) or --clear, not both")
    user = accounts(args, settings, clock).set_device(args.username, args.device)
    line = (
        f"{user.username}: phone {user.agent_device}"
        if user.agent_device
        else f"{user.username}: no phone"
    )
    return emit(args, user_shape(user), [line])


def cmd_list(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Every account with its role and units."""
    shapes = [user_shape(u) for u in accounts(args, settings, clock).users()]
    return emit(args, shapes, [user_line(s) for s in shapes] or ["no users"])


def read_password(from_stdin: bool) -> str:
    """The new password: one line of stdin, or typed twice at the terminal."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise UsageError("the two passwords differ")
    return first


def user_shape(user: User) -> dict[str, Any]:
    """An account as JSON: never its hash."""
    return {
        "username": user.username,
        "name": user.display_name,
        "role": user.role,
        "units": sorted(user.units),
        "active": user.active,
        "device": user.agent_device,
    }


def user_line(shape: dict[str, Any]) -> str:
    """One account as a line of text."""
    units = ",".join(shape["units"]) or "-"
    state = "" if shape["active"] else " (disabled)"
    device = f" phone={shape['device']}" if shape.get("device") else ""
    return f"{shape['username']:<20} {shape['role']:<7} {units}{device}{state}"
