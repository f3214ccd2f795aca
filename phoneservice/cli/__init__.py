"""The ``phoneservice`` command line (SPEC §8).

Exit codes: 0 success, 1 runtime failure, 2 invalid input or configuration; messages
go to stderr and never as a traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

from phoneservice.cli import callbacks, calls, demo, hours, processes, report, users, web
from phoneservice.cli.common import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_OK,
    Clock,
    Parser,
    UsageError,
)
from phoneservice.domain.callbacks.rules import CallbackError
from phoneservice.registry import ConfigError, UnknownUnitError
from phoneservice.services.accounts import AccountError
from phoneservice.services.callbacks import CallbackNotFound
from phoneservice.services.clock import system_clock
from phoneservice.services.ingest import IngestError
from phoneservice.settings import Settings, SettingsError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """The parser for every command."""
    parser = Parser(prog="phoneservice", description="Telefontider, opkald og tilbagekald.")
    commands = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    hours.register(commands)
    calls.register(commands)
    callbacks.register(commands)
    report.register(commands)
    processes.register(commands)
    web.register(commands)
    demo.register(commands)
    users.register(commands)
    return parser


def main(argv: Sequence[str] | None = None, clock: Clock = system_clock) -> int:
    """Run one command; return its exit code."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.run(args, Settings.from_env(), clock))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"{errors} error(s) in the registry", file=sys.stderr)
        return EXIT_INVALID
    except UnknownUnitError as exc:
        return _fail(f"unknown unit {exc.args[0]!r}", EXIT_INVALID)
    except (UsageError, SettingsError, IngestError, CallbackError, AccountError) as exc:
        return _fail(str(exc), EXIT_INVALID)
    except CallbackNotFound as exc:
        return _fail(str(exc), EXIT_INVALID)
    except BrokenPipeError:  # the reader went away (| head): not a failure of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        return EXIT_OK
    except Exception as exc:  # the last line of defence: a message, never a traceback
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILURE)


def _fail(message: str, code: int) -> int:
    """Print an error on stderr and return the exit code."""
    prefix = "error" if code == EXIT_INVALID else "failed"
    print(f"phoneservice: {prefix}: {message}", file=sys.stderr)
    return code
