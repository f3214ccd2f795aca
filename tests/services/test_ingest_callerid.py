"""``ingest`` of l-ivr-and-callerid: a hang-up in the welcome, and every form of caller ID.

l-001 leaves 0.5 s into the welcome, before any queue and before the dialplan's hours
decision; l-002 is withheld (``anonymous``), l-003 national (``55193292``), l-004
``004535456134`` and l-005 a Swedish ``+46…`` mobile.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from phoneservice.cli import main
from tests.conftest import LAB_REGISTRY
from tests.domain.test_call_tracker import TRACES, truth

SCENARIO = "l-ivr-and-callerid"
CALLS = truth(SCENARIO)["calls"]
RECORDING = str(TRACES / f"{SCENARIO}.ami")
QUEUE_LOG = str(TRACES / f"{SCENARIO}.queue_log")
UNIT_BY_DID = {"70101010": "borgerservice", "70101020": "jobcenter", "70101030": "boern-laering"}


@pytest.fixture
def lab(tmp_path, monkeypatch, database_url):
    """A registry that is open around the clock (country DK), and a fresh database."""
    config = tmp_path / "lab.toml"
    config.write_text(LAB_REGISTRY, encoding="utf-8")
    monkeypatch.setenv("PHONESERVICE_CONFIG", str(config))
    monkeypatch.setenv("PHONESERVICE_DATABASE_URL", database_url)
    return config


def run(capsys, *argv: str) -> Any:
    code = main([*argv, "--json"], clock=lambda: datetime(2026, 12, 3, 12, tzinfo=UTC))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def logged(capsys) -> dict[str, dict[str, Any]]:
    return {c["uniqueid"]: c for c in run(capsys, "calls", "--from", "2000-01-01")}


def figures(got: dict[str, Any]) -> tuple[Any, ...]:
    return (
        got["outcome"],
        got["unit"],
        got["queue"],
        got["caller_number"],
        got["caller_raw"],
        got["wait_s"],
        got["talk_s"] or 0,
    )


def expected(call: dict[str, Any]) -> tuple[Any, ...]:
    return (
        call["observed_outcome"],
        UNIT_BY_DID[call["did"]],
        call["queue"],
        call["caller_number"],
        call["caller_raw"],
        call["wait_s"],
        call["talk_s"],
    )


@pytest.mark.parametrize("with_queue_log", [False, True], ids=["ami", "ami+queue_log"])
def test_every_call_is_logged_as_its_ground_truth(lab, capsys, with_queue_log):
    files = [RECORDING, QUEUE_LOG] if with_queue_log else [RECORDING]
    assert run(capsys, "ingest", *files)["added"] == len(CALLS) == 5
    calls = logged(capsys)
    for call in CALLS:
        got = calls[call["uniqueid"]]
        assert figures(got) == expected(call), call["call_ref"]
        arrived = datetime.fromisoformat(got["arrived_at"]).timestamp()
        assert abs(arrived - call["times"]["channel_created"]) <= 1, call["call_ref"]
        assert got["source"] == "ami", call["call_ref"]


def test_the_hang_up_in_the_welcome_is_unanswered_by_did_with_no_pbx_hours(lab, capsys):
    run(capsys, "ingest", RECORDING, QUEUE_LOG)
    (call,) = [c for c in CALLS if c["call_ref"] == "l-001"]
    got = logged(capsys)[call["uniqueid"]]
    assert (got["outcome"], got["unit"], got["queue"], got["segments"]) == (
        "unanswered",
        "borgerservice",
        None,
        [],
    )
    # the ground truth's during_hours is the dialplan's decision, which never came
    assert (got["pbx_hours"], got["hours_disagree"], call["during_hours"]) == (None, False, None)
    assert got["during_hours"] is True  # the registry's, at arrival (SPEC §5.1)


def test_queue_log_alone_keeps_the_enterqueue_caller_as_raw(lab, capsys):
    assert run(capsys, "ingest", QUEUE_LOG)["added"] == 4  # l-001 never queued
    calls = logged(capsys)
    for call in CALLS[1:]:
        got = calls[call["uniqueid"]]
        assert (got["caller_number"], got["caller_raw"], got["source"]) == (
            call["caller_number"],
            call["caller_raw_queue_log"],
            "queue_log",
        ), call["call_ref"]


def test_callback_tasks_key_on_the_normalised_number(lab, capsys):
    run(capsys, "ingest", RECORDING, QUEUE_LOG)
    tasks = {(t["caller_number"], t["unit"]) for t in run(capsys, "callbacks")}
    missed = {
        (c["caller_number"], UNIT_BY_DID[c["did"]])
        for c in CALLS
        if c["observed_outcome"] != "answered" and c["caller_number"]
    }
    assert tasks == missed
    assert missed == {
        ("+4520401460", "borgerservice"),
        ("+4555193292", "borgerservice"),
        ("+4535456134", "boern-laering"),
    }
