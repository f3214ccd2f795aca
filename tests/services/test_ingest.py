"""``phoneservice ingest`` and ``calls``: recordings logged through the live path into storage."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from phoneservice.cli import main
from tests.conftest import LAB_REGISTRY
from tests.domain.test_call_tracker import TRACES, truth


@pytest.fixture
def lab(tmp_path, monkeypatch, database_url):
    """A registry that is open around the clock, and a fresh database."""
    config = tmp_path / "lab.toml"
    config.write_text(LAB_REGISTRY, encoding="utf-8")
    monkeypatch.setenv("PHONESERVICE_CONFIG", str(config))
    monkeypatch.setenv("PHONESERVICE_DATABASE_URL", database_url)
    return config


def run(capsys, *argv):
    code = main([*argv], clock=lambda: datetime(2026, 11, 23, 12, tzinfo=UTC))
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out) if "--json" in argv else out


def logged_calls(capsys) -> dict[str, dict]:
    return {c["uniqueid"]: c for c in run(capsys, "calls", "--from", "2000-01-01", "--json")}


def test_ingesting_twice_adds_nothing(lab, capsys):
    first = run(capsys, "ingest", str(TRACES / "e-burst.ami"), "--json")
    again = run(capsys, "ingest", str(TRACES / "e-burst.ami"), "--json")
    assert (first["added"], again["added"]) == (30, 0)
    assert len(logged_calls(capsys)) == 30


@pytest.mark.parametrize(
    "scenario",
    [
        "a-answered",
        "b-abandoned",
        "c-ringnoanswer-then-answered",
        "e-burst",
        "h-all-paused-abandon",
    ],
)
def test_recordings_are_logged_as_their_ground_truth(lab, capsys, scenario):
    run(capsys, "ingest", str(TRACES / f"{scenario}.ami"))
    logged = logged_calls(capsys)
    for call in truth(scenario)["calls"]:
        got = logged[call["uniqueid"]]
        assert (
            got["outcome"],
            got["wait_s"],
            got["talk_s"] or 0,
            got["agent"],
            got["caller_number"],
            got["during_hours"],
            got["source"],
        ) == (
            call["observed_outcome"],
            call["wait_s"],
            call["talk_s"],
            call["agent"],
            call["caller_number"],
            True,
            "ami",
        )


def test_out_of_hours_calls_are_closed_and_disagreements_marked(lab, capsys):
    run(capsys, "ingest", str(TRACES / "d-out-of-hours.ami"))
    logged = logged_calls(capsys)
    assert [c["pbx_hours"] for c in logged.values()] == ["closed"] * 3
    assert all(c["hours_disagree"] for c in logged.values())  # the lab registry says open


def test_reconnect_with_queue_log_reconstructs_every_call(lab, capsys):
    run(
        capsys,
        "ingest",
        str(TRACES / "g-reconnect.part1.ami"),
        str(TRACES / "g-reconnect.part2.ami"),
        str(TRACES / "g-reconnect.queue_log"),
    )
    logged = logged_calls(capsys)
    calls = truth("g-reconnect")["calls"]
    assert len(logged) == len(calls) == 8
    for call in calls:
        got = logged[call["uniqueid"]]
        assert (got["outcome"], got["wait_s"], got["talk_s"] or 0, got["agent"]) == (
            call["observed_outcome"],
            call["wait_s"],
            call["talk_s"],
            call["agent"],
        ), call["call_ref"]


def test_reconnect_without_queue_log_loses_no_missed_call_it_saw(lab, capsys):
    run(
        capsys,
        "ingest",
        str(TRACES / "g-reconnect.part1.ami"),
        str(TRACES / "g-reconnect.part2.ami"),
    )
    logged = logged_calls(capsys)
    for call in truth("g-reconnect")["calls"]:
        if call["call_ref"] == "g-008":
            continue  # it lived wholly inside the gap: only queue_log can know it
        assert logged[call["uniqueid"]]["outcome"] in (call["observed_outcome"], "unknown")


def test_queue_log_alone_is_logged_with_its_source(lab, capsys):
    summary = run(capsys, "ingest", str(TRACES / "e-burst.queue_log"), "--json")
    assert summary["added"] == 30
    assert {c["source"] for c in logged_calls(capsys).values()} == {"queue_log"}


def test_calls_filters_by_unit_and_date(lab, capsys):
    run(capsys, "ingest", str(TRACES / "e-burst.ami"))
    jobcenter = run(
        capsys,
        "calls",
        "--unit",
        "jobcenter",
        "--from",
        "2026-11-22",
        "--to",
        "2026-11-22",
        "--json",
    )
    assert jobcenter and {c["unit"] for c in jobcenter} == {"jobcenter"}
    assert run(capsys, "calls", "--from", "2026-11-23", "--json") == []


def test_unreadable_file_is_invalid_input(lab, capsys, tmp_path):
    code = main(["ingest", str(tmp_path / "missing.ami")])
    err = capsys.readouterr().err
    assert code == 2 and "missing.ami" in err and "Traceback" not in err


# ------------------------------------------------- m-ami-stall: a 20 s silent stall

STALL = truth("m-ami-stall")
STALL_PARTS = [str(TRACES / "m-ami-stall.part1.ami"), str(TRACES / "m-ami-stall.part2.ami")]
QUEUE_LOG_ONLY = ("m-008", "m-014")  # they lived wholly inside the gap


def _seconds(text: str) -> float:
    return datetime.fromisoformat(text).timestamp()


def assert_stall_call(got: dict, call: dict, *, exact_end: bool = True) -> None:
    """Outcome, unit, number, wait, talk and the PBX's own arrival and join times (±1 s)."""
    ref, times = call["call_ref"], call["times"]
    if exact_end:
        assert (got["outcome"], got["wait_s"], got["talk_s"] or 0) == (
            call["observed_outcome"],
            call["wait_s"],
            call["talk_s"],
        ), ref
    assert (got["unit"], got["caller_number"]) == (call["queue"], call["caller_number"]), ref
    joined = _seconds(got["segments"][0]["joined_at"])
    assert abs(joined - times["queue_join"]) <= 1, ref
    # queue_log-only calls too: their uniqueid carries the channel's creation second
    assert abs(_seconds(got["arrived_at"]) - times["channel_created"]) <= 1, ref
    if got["outcome"] == "answered" and exact_end:
        left = _seconds(got["segments"][-1]["left_at"])
        assert abs(left - times["agent_connect"]) <= 1, ref


def test_stall_with_queue_log_takes_every_call_over_with_the_pbx_clocks(lab, capsys):
    run(capsys, "ingest", *STALL_PARTS, str(TRACES / "m-ami-stall.queue_log"))
    logged = logged_calls(capsys)
    assert len(logged) == len(STALL["calls"]) == 20
    for call in STALL["calls"]:
        assert_stall_call(logged[call["uniqueid"]], call)


def test_stall_without_queue_log_takes_the_live_calls_over_with_the_pbx_clocks(lab, capsys):
    run(capsys, "ingest", *STALL_PARTS)
    logged = logged_calls(capsys)
    for call in STALL["calls"]:
        if call["call_ref"] in QUEUE_LOG_ONLY:
            assert call["uniqueid"] not in logged
            continue
        ended_in_gap = call["at_resync"]["state"] == "gone"
        got = logged[call["uniqueid"]]
        assert_stall_call(got, call, exact_end=not ended_in_gap)
        if ended_in_gap:
            assert got["outcome"] in (call["observed_outcome"], "unknown"), call["call_ref"]


def test_stall_answers_with_no_instant_before_them_take_the_next(lab, capsys, tmp_path):
    """Without SuccessfulAuth (no ``security`` class) nothing in part2 is timed before the
    answers: they are timed by the first instant after them (2.3 s later here), never by
    the last event before the 20 s gap."""
    part2 = (TRACES / "m-ami-stall.part2.ami").read_bytes()
    start = part2.index(b"Event: SuccessfulAuth")
    stripped = part2[:start] + part2[part2.index(b"\r\n\r\n", start) + 4 :]
    assert b"SuccessfulAuth" not in stripped
    (tmp_path / "part2.ami").write_bytes(stripped)
    run(capsys, "ingest", STALL_PARTS[0], str(tmp_path / "part2.ami"))
    logged = logged_calls(capsys)
    for call in STALL["calls"]:
        if call["seen_in"][0].endswith("part2.ami"):  # first seen in the resync's answers
            arrived = _seconds(logged[call["uniqueid"]]["arrived_at"])
            assert 0 <= arrived - call["times"]["channel_created"] <= 3.5, call["call_ref"]
