"""``--json`` is honoured (the output is JSON) or refused (exit 2) by every command."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from phoneservice.cli import COMMANDS, main
from tests.domain.test_call_tracker import TRACES
from tests.services.test_ingest import lab  # noqa: F401  (the fixture: open registry, fresh database)

# The processes print log lines, not data: JSON log lines are PHONESERVICE_LOG_FORMAT's.
REFUSED = ("worker", "web", "run", "demo")

# Each command that prints data, run in this order on one database, with --json.
HONOURED = [
    ["check-config"],
    ["status"],
    ["hours", "borgerservice"],
    ["deadline", "borgerservice"],
    ["export", "osm", "borgerservice"],
    ["db", "upgrade"],
    ["db", "rebuild-rollup"],
    ["ingest", str(TRACES / "e-burst.ami")],
    ["calls", "--from", "2026-11-22"],
    ["callbacks"],
    ["report", "--from", "2026-11-22", "--to", "2026-11-22"],
    ["evaluation", "--from", "2026-11-22", "--to", "2026-11-22"],
    ["user", "add", "anne", "--password-stdin"],
    ["user", "passwd", "anne", "--password-stdin"],
    ["user", "device", "anne", "PJSIP/anne"],
    ["user", "list"],
    ["purge"],
]


def test_every_command_either_prints_json_or_refuses_the_option():
    assert {argv[0] for argv in HONOURED} | set(REFUSED) == set(COMMANDS)


def test_each_data_command_prints_json(lab, capsys, monkeypatch):  # noqa: F811
    for argv in HONOURED:
        monkeypatch.setattr("sys.stdin", io.StringIO("a password for tests\n"))
        code = main([*argv, "--json"], clock=lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
        out, err = capsys.readouterr()
        assert code == 0, (argv, err)
        json.loads(out)  # one JSON document, nothing else on stdout


@pytest.mark.parametrize("command", REFUSED)
def test_a_process_refuses_json_and_says_where_json_logs_come_from(capsys, tmp_path, command):
    missing = str(tmp_path / "none.toml")  # were --json let through, this would stop it
    with pytest.raises(SystemExit) as refused:
        main([command, "--json", "--config", missing])
    err = capsys.readouterr().err
    assert refused.value.code == 2
    assert f"--json: `{command}` prints no data" in err
    assert "PHONESERVICE_LOG_FORMAT=json" in err
