"""The ``phoneservice`` command line (SPEC §8).

Exit codes: 0 success, 1 runtime failure, 2 invalid input or configuration; messages
go to stderr and never as a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from phoneservice.bootstrap import SchemaBehind
from phoneservice.cli.common import (
    EXIT_FAILURE,
    EXIT_INVALID,
    EXIT_OK,
    Clock,
    Parser,
    UsageError,
)
from phoneservice.registry import ConfigError, UnknownUnitError
from phoneservice.services.clock import system_clock
from phoneservice.settings import DEFAULT_CONFIG, Settings, SettingsError

__all__ = ["build_parser", "main"]

NO_SUCH_FILE = "no such file"
CONFIG_HINT = (
    "give the registry with --config PATH or PHONESERVICE_CONFIG=PATH"
    " (default: config/opening_hours.toml, relative to the current folder)"
)


# Every command: its name, the module under phoneservice.cli that registers and runs it,
# and the line ``--help`` shows. A command's module (and what it imports) is loaded only
# when that command runs, so ``status`` does not pay for ``report`` or ``demo``.
COMMANDS: dict[str, tuple[str, str]] = {
    "check-config": ("hours", "validate the registry"),
    "status": ("hours", "open or closed now"),
    "hours": ("hours", "effective hours per day"),
    "deadline": ("hours", "callback deadline"),
    "export": ("hours", "export hours"),
    "db": ("calls", "database schema"),
    "ingest": ("calls", "log recorded AMI or queue_log"),
    "calls": ("calls", "logged calls"),
    "callbacks": ("callbacks", "callback tasks"),
    "purge": ("callbacks", "run the retention purge now"),
    "report": ("report", "the figures"),
    "evaluation": ("evaluation", "the service evaluation: goals against the previous period"),
    "worker": (
        "processes",
        "scheduler and AMI connections (one active worker per database, others wait)",
    ),
    "web": (
        "web",
        "serve the web app and the JSON API (waitress; gunicorn: phoneservice.web.wsgi:app)",
    ),
    "run": ("web", "web + worker in one process (SQLite in the instance folder by default)"),
    "demo": ("demo", "run + a simulated PBX replaying recorded calls re-timed to now"),
    "user": ("users", "local accounts: add, passwd, list"),
}


class _Commands:
    """The subparsers as a command module sees them: each command gets its help line here."""

    def __init__(self, subparsers: Any) -> None:
        self.subparsers = subparsers

    def add_parser(self, name: str, **options: Any) -> argparse.ArgumentParser:
        """A command's parser, with the help line of :data:`COMMANDS`."""
        parser: argparse.ArgumentParser = self.subparsers.add_parser(
            name, help=COMMANDS[name][1], **options
        )
        return parser


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser for every command; only the module of the command in ``argv`` is loaded.

    The other commands get a bare parser with their help line, so ``--help`` lists them
    all and a typo is answered with the choices. ``argv=None`` loads every module.
    """
    parser = Parser(prog="phoneservice", description="Telefontider, opkald og tilbagekald.")
    parser.add_argument("--version", action=_Version, help="print the version and exit")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    wanted = _command_in(argv)
    modules = dict.fromkeys(module for module, _ in COMMANDS.values())
    for module in modules:
        if argv is None or (wanted is not None and COMMANDS[wanted][0] == module):
            importlib.import_module(f"phoneservice.cli.{module}").register(_Commands(subparsers))
        else:
            for name, (owner, text) in COMMANDS.items():
                if owner == module:
                    subparsers.add_parser(name, help=text, add_help=False)
    return parser


class _Version(argparse.Action):
    """``--version``: the installed package's version (read only when asked)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> None:
        """Print ``phoneservice X.Y.Z`` and exit 0."""
        from importlib.metadata import version

        print(f"phoneservice {version('phoneservice')}")
        parser.exit()


def _command_in(argv: Sequence[str] | None) -> str | None:
    """The command named in ``argv`` (its first word that is not an option), if known."""
    words = [word for word in argv or () if not word.startswith("-")]
    return words[0] if words and words[0] in COMMANDS else None


def main(argv: Sequence[str] | None = None, clock: Clock = system_clock) -> int:
    """Run one command; return its exit code."""
    words = sys.argv[1:] if argv is None else list(argv)
    args = build_parser(words).parse_args(words)
    try:
        return int(args.run(args, Settings.from_env(), clock))
    except ConfigError as exc:
        for problem in exc.problems:
            print(problem, file=sys.stderr)
        errors = sum(p.severity == "error" for p in exc.problems)
        print(f"{errors} error(s) in the registry", file=sys.stderr)
        if any(p.message.endswith(NO_SUCH_FILE) for p in exc.problems):
            print(_config_hint(getattr(args, "config", None)), file=sys.stderr)
        return EXIT_INVALID
    except UnknownUnitError as exc:
        return _fail(f"unknown unit {exc.args[0]!r}", EXIT_INVALID)
    except (UsageError, SettingsError) as exc:
        return _fail(str(exc), EXIT_INVALID)
    except SchemaBehind as exc:
        return _fail(str(exc), EXIT_FAILURE)
    except BrokenPipeError:  # the reader went away (| head): not a failure of ours
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - silences the flush at exit
        return EXIT_OK
    except Exception as exc:  # the last line of defence: a message, never a traceback
        if isinstance(exc, _loaded_input_errors()):
            return _fail(str(exc), EXIT_INVALID)
        return _fail(f"{type(exc).__name__}: {exc}", EXIT_FAILURE)


# Invalid input raised by services that a command imports only when it needs them (their
# modules import SQLAlchemy, argon2 or the call log): an error of a module never imported
# was not raised.
_LAZY_INPUT_ERRORS = (
    ("phoneservice.domain.callbacks.rules", "CallbackError"),
    ("phoneservice.services.accounts", "AccountError"),
    ("phoneservice.services.callbacks", "CallbackNotFound"),
    ("phoneservice.services.ingest", "IngestError"),
)


def _loaded_input_errors() -> tuple[type[BaseException], ...]:
    """The lazily imported invalid-input errors whose modules this process has loaded."""
    loaded = (sys.modules.get(module) for module, _ in _LAZY_INPUT_ERRORS)
    return tuple(
        getattr(module, name)
        for module, (_, name) in zip(loaded, _LAZY_INPUT_ERRORS, strict=True)
        if module is not None
    )


def _config_hint(option: str | None) -> str:
    """Where the registry was looked for, who said so, and how to point at another one."""
    variable = os.environ.get("PHONESERVICE_CONFIG")
    if option:
        path, source = option, "given with --config"
    elif variable:
        path, source = variable, "given in PHONESERVICE_CONFIG"
    else:
        path, source = DEFAULT_CONFIG, "the default"
    return f"phoneservice: no registry at {Path(path).absolute()} ({source}); {CONFIG_HINT}"


def _fail(message: str, code: int) -> int:
    """Print an error on stderr and return the exit code."""
    prefix = "error" if code == EXIT_INVALID else "failed"
    print(f"phoneservice: {prefix}: {message}", file=sys.stderr)
    return code
