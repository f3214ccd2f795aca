"""Benchmark the start-up of the command line: whole processes, as a person runs them.

    python bench/cli.py [--runs 15] [--config config/opening_hours.toml]

Times ``phoneservice status``, ``--help``, ``hours``, ``deadline --at ...`` and
``check-config`` as whole processes (interpreter start, imports, the answer, exit),
beside a reference measured in the same run: ``python -c "import holidays, tomllib,
zoneinfo"``, the libraries no command can do without. The commands and the reference
take turns, round after round, so a busy machine slows them alike; each row is the
median of ``--runs`` rounds after one warm-up round. The target is at most 3x the
reference. The environment's ``PHONESERVICE_*`` variables are removed and the instance
folder is an empty one, so these commands reach no database; ``status`` is then measured
twice more with a database whose manual overrides it must read: a SQLite file made by
``db upgrade``, and the PostgreSQL server of ``--postgres URL`` when given.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ("-c", "import holidays, tomllib, zoneinfo")
TARGET_RATIO = 3.0
UNIT = "borgerservice"
MISSED_AT = "2026-11-23T12:00"


@dataclass(frozen=True)
class Command:
    """One measured command line: its label and its arguments after the program."""

    label: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()  # PHONESERVICE_* settings of this row


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the table; 1 if a command failed."""
    args = _arguments(argv)
    program = _program()
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONESERVICE_")}
    folder = Path(tempfile.mkdtemp(prefix="phoneservice-bench-cli-"))
    env["PHONESERVICE_INSTANCE"] = str(folder / "empty")
    commands = _commands(args.config) + _with_databases(program, args, env, folder)
    runs: dict[str, list[float]] = {"reference": [], **{c.label: [] for c in commands}}
    failed = _round(program, commands, env, runs)  # warm-up: file caches, .pyc files
    runs = {label: [] for label in runs}
    for _ in range(args.runs):
        failed |= _round(program, commands, env, runs)
    print(_preamble(program, args.runs))
    print(_table(runs))
    for label in sorted(failed):
        print(f"FAILED: {label} exited non-zero", file=sys.stderr)
    return 1 if failed else 0


def _arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--config", default="config/opening_hours.toml")
    parser.add_argument("--postgres", help="also time status on this PostgreSQL database")
    return parser.parse_args(argv)


def _program() -> list[str]:
    """The installed console script beside this interpreter, else ``python -m phoneservice``."""
    script = shutil.which("phoneservice", path=str(Path(sys.executable).parent))
    return [script] if script else [sys.executable, "-m", "phoneservice"]


def _commands(config: str) -> list[Command]:
    """The measured command lines."""
    registry = ("--config", config)
    return [
        Command("status", ("status", *registry)),
        Command("--help", ("--help",)),
        Command("hours", ("hours", *registry, UNIT)),
        Command("deadline --at", ("deadline", *registry, "--at", MISSED_AT, UNIT)),
        Command("check-config", ("check-config", *registry)),
    ]


def _with_databases(
    program: list[str], args: argparse.Namespace, env: dict[str, str], folder: Path
) -> list[Command]:
    """``status`` on a migrated SQLite file and (with --postgres) PostgreSQL."""
    urls = [("status, SQLite", f"sqlite:///{folder / 'bench.sqlite3'}")]
    if args.postgres:
        urls.append(("status, PostgreSQL", args.postgres))
    rows = []
    for label, url in urls:
        settings = (("PHONESERVICE_DATABASE_URL", url),)
        upgrade = [*program, "db", "upgrade", "--config", args.config]
        subprocess.run(upgrade, cwd=ROOT, env={**env, **dict(settings)}, check=True)
        rows.append(Command(label, ("status", "--config", args.config), settings))
    return rows


def _round(
    program: list[str],
    commands: Sequence[Command],
    env: dict[str, str],
    runs: dict[str, list[float]],
) -> set[str]:
    """One run of the reference and of each command, appended to ``runs``; labels that failed."""
    failed = set()
    runs["reference"].append(_time([sys.executable, *REFERENCE], env)[0])
    for command in commands:
        seconds, code = _time([*program, *command.argv], {**env, **dict(command.env)})
        runs[command.label].append(seconds)
        if code != 0:
            failed.add(command.label)
    return failed


def _time(argv: list[str], env: dict[str, str]) -> tuple[float, int]:
    """Wall seconds of one whole process, and its exit code."""
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, check=False)
    return time.perf_counter() - start, done.returncode


def _preamble(program: list[str], runs: int) -> str:
    """What was measured, where."""
    return (
        f"{' '.join(Path(p).name for p in program)} vs python {' '.join(REFERENCE)!r}\n"
        f"median of {runs} rounds after one warm-up; Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs, {platform.platform()}"
    )


def _table(runs: dict[str, list[float]]) -> str:
    """A row per command: median ms, ratio to the reference and the target."""
    reference = statistics.median(runs["reference"])
    lines = [f"{'command':<16} {'median ms':>10} {'x reference':>12}  target"]
    for label, seconds in runs.items():
        median = statistics.median(seconds)
        ratio = median / reference
        if label == "reference":
            verdict = ""
        else:
            verdict = f"<= {TARGET_RATIO:g}x " + ("ok" if ratio <= TARGET_RATIO else "MISSED")
        lines.append(f"{label:<16} {median * 1e3:>10.0f} {ratio:>12.2f}  {verdict}")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
