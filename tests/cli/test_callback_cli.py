"""``phoneservice callbacks call``: a staff member asks the worker to place the call."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime

import pytest

from phoneservice.cli import main
from tests.domain.test_call_tracker import TRACES
from tests.services.test_ingest import lab  # noqa: F401  (the fixture: open registry, fresh database)


def run(capsys, *argv):
    code = main([*argv], clock=lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
    out, err = capsys.readouterr()
    return code, out, err


def add_agent(monkeypatch, capsys, username, device=None):
    """``user add`` (password on stdin), then ``user device`` when a phone is given."""
    monkeypatch.setattr("sys.stdin", io.StringIO("a password for tests\n"))
    assert run(capsys, "user", "add", username, "--password-stdin")[0] == 0
    if device is not None:
        code, _, err = run(capsys, "user", "device", username, device)
        assert code == 0, err


def test_placing_a_call_queues_one_attempt_for_the_worker(lab, capsys, monkeypatch):  # noqa: F811
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    add_agent(monkeypatch, capsys, "anne", "PJSIP/anne")
    _, out, _ = run(capsys, "callbacks", "--json")
    first = json.loads(out)[0]["id"]
    code, out, err = run(capsys, "callbacks", "call", str(first), "--user", "anne", "--json")
    assert code == 0, err
    placed = json.loads(out)
    assert placed["channel_id"].startswith(f"cb{first}-")
    assert placed["callback"]["claimed_by"] == "anne"
    again = run(capsys, "callbacks", "call", str(first), "--user", "anne")
    assert again[0] == 2 and "Traceback" not in again[2]  # one placed call at a time


def test_the_command_names_no_device(lab, capsys, monkeypatch):  # noqa: F811
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    add_agent(monkeypatch, capsys, "nina")
    _, out, _ = run(capsys, "callbacks", "--json")
    first = str(json.loads(out)[0]["id"])
    code, _, err = run(capsys, "callbacks", "call", first, "--user", "nina")
    assert code == 2 and "ask an admin to set your phone" in err
    with pytest.raises(SystemExit) as refused:  # no such option any more
        run(capsys, "callbacks", "call", first, "--agent-device", "Local/0047@trunk")
    assert refused.value.code == 2 and "--agent-device" in capsys.readouterr().err


def test_user_device_sets_checks_and_clears_the_phone(lab, capsys, monkeypatch):  # noqa: F811
    add_agent(monkeypatch, capsys, "anne")
    code, _, err = run(capsys, "user", "device", "anne", "Local/004790000000@outbound-trunk")
    assert code == 2 and "agent_device_pattern" in err and "0047" not in err
    code, out, _ = run(capsys, "user", "device", "anne", "PJSIP/anne", "--json")
    assert code == 0 and json.loads(out)["device"] == "PJSIP/anne"
    _, out, _ = run(capsys, "user", "list")
    assert "phone=PJSIP/anne" in out
    assert run(capsys, "user", "device", "anne")[0] == 2  # a device or --clear
    assert run(capsys, "user", "device", "anne", "PJSIP/anne", "--clear")[0] == 2
    code, out, _ = run(capsys, "user", "device", "anne", "--clear", "--json")
    assert code == 0 and json.loads(out)["device"] is None


def test_unknown_task_is_invalid_input(lab, capsys):  # noqa: F811
    code, _, err = run(capsys, "callbacks", "call", "999")
    assert code == 2 and "999" in err


def test_the_text_lines_name_the_state_in_danish(lab, capsys):  # noqa: F811
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    code, out, _ = run(capsys, "callbacks")
    assert code == 0 and out
    assert all(" åben " in line and " open " not in line for line in out.splitlines())
