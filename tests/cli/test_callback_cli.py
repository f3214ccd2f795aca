"""``phoneservice callbacks call``: a staff member asks the worker to place the call."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from phoneservice.cli import main
from tests.domain.test_call_tracker import TRACES
from tests.services.test_ingest import lab  # noqa: F401  (the fixture: open registry, fresh database)


def run(capsys, *argv):
    code = main([*argv], clock=lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
    out, err = capsys.readouterr()
    return code, out, err


def test_placing_a_call_queues_one_attempt_for_the_worker(lab, capsys):  # noqa: F811
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    _, out, _ = run(capsys, "callbacks", "--json")
    first = json.loads(out)[0]["id"]
    code, out, err = run(
        capsys,
        "callbacks",
        "call",
        str(first),
        "--agent-device",
        "PJSIP/anne",
        "--user",
        "anne",
        "--json",
    )
    assert code == 0, err
    placed = json.loads(out)
    assert placed["channel_id"].startswith(f"cb{first}-")
    assert placed["callback"]["claimed_by"] == "anne"
    again = run(
        capsys, "callbacks", "call", str(first), "--agent-device", "PJSIP/anne", "--user", "anne"
    )
    assert again[0] == 2 and "Traceback" not in again[2]  # one placed call at a time


def test_unknown_task_is_invalid_input(lab, capsys):  # noqa: F811
    code, _, err = run(capsys, "callbacks", "call", "999", "--agent-device", "PJSIP/anne")
    assert code == 2 and "999" in err
