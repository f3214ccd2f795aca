"""``phoneservice demo``: ``run`` plus a simulated PBX on loopback (SPEC §2).

The simulator (:class:`phoneservice.demo.simulator.AmiSimulator`) speaks real AMI with a
login of its own and replays a recording (``e-burst``: 30 calls, 13 of them abandoned)
re-timed to now, again every ``--every`` seconds with fresh ids
(:mod:`phoneservice.demo.retime`). The worker of ``run`` follows it as PBX ``demo``, so
calls, missed calls and callbacks appear within a minute.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from phoneservice.cli.common import Clock, UsageError, common_options
from phoneservice.cli.processes import configure_logging
from phoneservice.cli.web import _http_options, run_services, serve_run
from phoneservice.demo.callers import CallerNumbers
from phoneservice.demo.retime import retime, retime_to, span
from phoneservice.settings import Settings

if TYPE_CHECKING:
    from phoneservice.bootstrap import Services

DEMO_USER = "demo"  # the simulated PBX's AMI login
DEMO_ACCOUNT = "demo"  # the web sign-in the demo prints
DEMO_DEVICE = "PJSIP/demo"  # its own phone, for »Ring op« (the default device pattern allows it)
DEFAULT_EVERY = 90.0  # seconds between the starts of two rounds of the recording
# Shipped in the package (gzip), so an installed wheel runs the demo too.
DEFAULT_RECORDING = Path(__file__).resolve().parents[1] / "demo" / "recordings" / "e-burst.ami.gz"


def register(commands: Any) -> None:
    """Add ``demo`` to the parser."""
    demo = commands.add_parser(
        "demo",
        parents=[common_options(data=False), _http_options()],
    )
    demo.add_argument(
        "--recording", type=Path, default=DEFAULT_RECORDING, help="the .ami recording to replay"
    )
    demo.add_argument(
        "--every", type=_positive, default=DEFAULT_EVERY, help=f"seconds (default {DEFAULT_EVERY})"
    )
    demo.add_argument(
        "--speed", type=_positive, default=1.0, help="replay speed (default 1.0: real time)"
    )
    demo.set_defaults(run=cmd_demo)


def _positive(text: str) -> float:
    """A number > 0."""
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number > 0")
    return value


def unpacked(recording: Path, folder: Path) -> Path:
    """The recording itself, or a ``.gz`` one unpacked (with its timing) into ``folder``."""
    if recording.suffix != ".gz":
        return recording
    name = recording.name.split(".")[0]
    target = folder / "demo-recording"
    target.mkdir(parents=True, exist_ok=True)
    for packed in recording.parent.glob(f"{name}.*.gz"):
        (target / packed.with_suffix("").name).write_bytes(gzip.decompress(packed.read_bytes()))
    return target / recording.with_suffix("").name


def demo_account(services: Services) -> str:
    """An admin account ``demo`` with a fresh random password (returned) and a phone."""
    service = services.accounts  # the database is migrated on this first use
    password = secrets.token_urlsafe(12)
    if any(user.username == DEMO_ACCOUNT for user in service.users()):
        service.set_password(DEMO_ACCOUNT, password, actor="demo")
    else:
        service.add_user(DEMO_ACCOUNT, password, "admin", display_name="Demo", actor="demo")
    service.set_device(DEMO_ACCOUNT, DEMO_DEVICE, actor="demo")
    return password


class Rounds:
    """Prepares each round of the recording: re-timed to now, ids and callers fresh per round.

    Ids are shifted by the same delta as the clock; each round's delta is kept more than
    the recording's span above the previous one, so no id of a round repeats an earlier one.
    Each round's citizens call from numbers no earlier round used
    (:mod:`phoneservice.demo.callers`).
    """

    def __init__(self, clock: Any = time.time) -> None:
        self._clock = clock
        self._last: int | None = None
        self._callers = CallerNumbers()
        self._guard = threading.Lock()

    def __call__(self, data: bytes, round_no: int) -> bytes:
        """The bytes of round ``round_no``."""
        result, delta = retime_to(data, self._clock())
        with self._guard:
            if self._last is not None and delta <= self._last + span(data):
                delta = self._last + span(data) + 1
                result = retime(data, delta)
            self._last = delta
            return self._callers.fresh(result)


def cmd_demo(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Start the simulated PBX, then ``run`` against it until SIGTERM or SIGINT."""
    recording: Path = args.recording
    if not recording.is_file():
        raise UsageError(f"--recording: no such file {recording}")
    from phoneservice.demo.simulator import AmiSimulator, Script

    recording = unpacked(recording, settings.instance)
    secret = secrets.token_urlsafe(16)
    script = Script(recording, repeat_every=args.every / args.speed, prepare=Rounds())
    simulator = AmiSimulator([script], username=DEMO_USER, secret=secret, speed=args.speed)
    simulator.start()
    try:
        settings = dataclasses.replace(
            settings,
            ami_url=f"ami://{DEMO_USER}@127.0.0.1:{simulator.port}?name=demo",
            ami_secret=secret,
        )
        configure_logging(settings)  # the migrations' lines: the registry is not read yet
        services = run_services(args, settings, clock)
        configure_logging(settings, services.registry.timezone)  # the board's local time
        lines = announcement(args, recording.stem, demo_account(services))
        return serve_run(args, services, lambda: print("\n".join(lines), flush=True))
    finally:
        simulator.stop()


def announcement(args: argparse.Namespace, recording: str, password: str) -> list[str]:
    """What the demo prints once it serves: what it is, where to look, how to sign in."""
    base, every = f"http://{args.host}:{args.port}", args.every / args.speed
    return [
        "phoneservice demo: phoneservice on this machine with a simulated phone system (PBX)"
        " and invented callers, to try the board, callbacks and reports; no real calls",
        f"phoneservice demo: board at {base}/ ; the simulated PBX replays {recording} every"
        f" {every:.0f} s, each time with new caller numbers; list calls and callbacks with"
        " `phoneservice calls` / `phoneservice callbacks`",
        f"phoneservice demo: sign in at {base}/login as {DEMO_ACCOUNT!r} with the password"
        f" {password!r} (new at each start)",
    ]
