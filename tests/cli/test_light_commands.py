"""The commands over the registry alone import no database, web or hashing library."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import SHIPPED_CONFIG

HEAVY = ("sqlalchemy", "sqlmodel", "alembic", "flask", "argon2", "apscheduler")
SCRIPT = """
import contextlib, io, sys
from phoneservice.cli import main
config = sys.argv[1]
commands = [
    ["check-config"],
    ["status"],
    ["hours", "borgerservice"],
    ["deadline", "borgerservice", "--at", "2026-11-23T12:00"],
    ["export", "ics", "borgerservice"],
]
with contextlib.redirect_stdout(io.StringIO()):
    codes = [main([*argv, "--config", config]) for argv in commands]
print(codes, sorted(name for name in sys.modules if name.split(".")[0] in sys.argv[2:]))
"""


def test_registry_commands_without_a_database_stay_light(tmp_path):
    env = {"PHONESERVICE_INSTANCE": str(tmp_path), "PATH": "/usr/bin:/bin"}
    found = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(SHIPPED_CONFIG), *HEAVY],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=True,
    )
    assert found.stdout.strip() == "[0, 0, 0, 0, 0] []", found.stderr


def test_each_command_is_registered_by_the_module_the_table_names():
    """``build_parser`` loads one command's module only; that module registers the command."""
    import argparse

    from phoneservice.cli import COMMANDS, build_parser

    def loaded(argv: list[str] | None) -> dict[str, bool]:
        """Each listed command, and whether its module registered it (bare ones have no -h)."""
        parser = build_parser(argv)
        (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        return {name: sub.add_help for name, sub in action.choices.items()}

    for name, (module, _) in COMMANDS.items():
        found = loaded([name])
        assert list(found) == list(COMMANDS)  # --help and a typo see every command
        assert found == {n: COMMANDS[n][0] == module for n in COMMANDS}, name
    assert all(loaded(None).values())
