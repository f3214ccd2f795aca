"""The command line: JSON shapes, text output and exit codes (SPEC §8)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime

import pytest

from phoneservice.cli import main
from tests.conftest import BORGERSERVICE, HEADER, ROOT, SHIPPED_CONFIG

FIXED = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def fixed_clock() -> datetime:
    return FIXED


@pytest.fixture
def spec_config(tmp_path):
    """The SPEC's Borgerservice without a Christmas-week closure, as a file."""
    path = tmp_path / "opening_hours.toml"
    path.write_text(HEADER + BORGERSERVICE, encoding="utf-8")
    return str(path)


def run(argv, capsys):
    code = main(argv, clock=fixed_clock)
    out, err = capsys.readouterr()
    return code, out, err


def test_status_json_matches_the_spec_example(spec_config, capsys):
    code, out, _ = run(
        ["status", "borgerservice", "--at", "2026-12-24T10:00", "--json", "--config", spec_config],
        capsys,
    )
    assert code == 0
    [item] = json.loads(out)
    assert {
        k: item[k] for k in ("id", "name", "kind", "open", "reason", "closes_at", "next_open")
    } == {
        "id": "borgerservice",
        "name": "Borgerservice",
        "kind": "centre",
        "open": False,
        "reason": "Juleaftensdag",
        "closes_at": None,
        "next_open": "2026-12-28T10:00:00+01:00",
    }


def test_deadline_json_matches_the_spec_example(spec_config, capsys):
    code, out, _ = run(
        [
            "deadline",
            "borgerservice",
            "--at",
            "2026-05-13T14:00",
            "--json",
            "--config",
            spec_config,
        ],
        capsys,
    )
    assert code == 0
    assert json.loads(out) == {
        "unit": "borgerservice",
        "received_at": "2026-05-13T14:00:00+02:00",
        "due_at": "2026-05-18T15:00:00+02:00",
    }


def test_hours_json_lists_days_with_reasons(spec_config, capsys):
    code, out, _ = run(
        [
            "hours",
            "borgerservice",
            "--from",
            "2026-12-23",
            "--days",
            "3",
            "--json",
            "--config",
            spec_config,
        ],
        capsys,
    )
    assert code == 0
    assert json.loads(out) == [
        {"date": "2026-12-23", "intervals": ["10:00-14:00"], "reason": "telefontid"},
        {"date": "2026-12-24", "intervals": [], "reason": "Juleaftensdag"},
        {"date": "2026-12-25", "intervals": [], "reason": "Juledag"},
    ]


def test_status_of_every_shipped_unit_uses_the_clock(capsys):
    code, out, _ = run(["status", "--json", "--config", str(SHIPPED_CONFIG)], capsys)
    assert code == 0
    items = json.loads(out)
    assert len(items) >= 24
    open_now = {i["id"] for i in items if i["open"]}
    assert {"borgerservice", "politi-114"} <= open_now  # Monday 13:00 local


def test_status_text_output(spec_config, capsys):
    code, out, _ = run(["status", "--at", "2026-11-23T11:00", "--config", spec_config], capsys)
    assert code == 0
    assert "borgerservice" in out and "lukker kl. 14:00" in out


BAD_INPUT = [
    ("unknown-unit", ["status", "nope"], "unknown unit 'nope'"),
    ("bad-at", ["status", "--at", "i morgen"], "--at: 'i morgen' is not an ISO 8601 time"),
    ("bad-from", ["hours", "borgerservice", "--from", "2026-13-01"], "is not a date"),
    ("bad-days", ["hours", "borgerservice", "--days", "-1"], "--days: '-1' must be a whole"),
    ("zero-days", ["hours", "borgerservice", "--days", "0"], "--days: '0' must be a whole"),
    ("deadline-bad-at", ["deadline", "borgerservice", "--at", "tomorrow"], "is not an ISO 8601"),
    ("unknown-command", ["frobnicate"], "invalid choice"),
    ("unknown-export", ["export", "pdf", "borgerservice"], "invalid choice"),
    ("missing-config", ["status", "--config", "/nonexistent/x.toml"], "cannot be read"),
]


@pytest.mark.parametrize(
    ("argv", "message"), [c[1:] for c in BAD_INPUT], ids=[c[0] for c in BAD_INPUT]
)
def test_invalid_input_exits_2_with_a_message(spec_config, capsys, argv, message):
    if "--config" not in argv:
        argv = [*argv, "--config", spec_config]
    try:
        code = main(argv, clock=fixed_clock)
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    err = capsys.readouterr().err
    assert code == 2
    assert message in err
    assert "Traceback" not in err


def test_runtime_failure_exits_1(spec_config, capsys):
    def broken_clock() -> datetime:
        raise RuntimeError("clock unavailable")

    code = main(["status", "--config", spec_config], clock=broken_clock)
    err = capsys.readouterr().err
    assert code == 1
    assert "clock unavailable" in err and "Traceback" not in err


@pytest.mark.slow
def test_console_entry_point_runs_as_module(spec_config):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "phoneservice",
            "deadline",
            "borgerservice",
            "--at",
            "2026-12-23T14:00",
            "--json",
            "--config",
            spec_config,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["due_at"] == "2026-12-28T15:00:00+01:00"


def test_config_from_environment(spec_config, capsys, monkeypatch):
    monkeypatch.setenv("PHONESERVICE_CONFIG", spec_config)
    code, out, _ = run(["status", "--json"], capsys)
    assert code == 0
    assert [i["id"] for i in json.loads(out)] == ["borgerservice"]


# --- small promises of the command line ---------------------------------------------------


def test_version_prints_the_installed_version(capsys):
    from importlib.metadata import version

    with pytest.raises(SystemExit) as done:
        main(["--version"], clock=fixed_clock)
    assert done.value.code == 0
    assert capsys.readouterr().out == f"phoneservice {version('phoneservice')}\n"


def test_deadline_without_at_is_for_a_call_missed_now(spec_config, capsys):
    code, out, _ = run(["deadline", "borgerservice", "--json", "--config", spec_config], capsys)
    assert code == 0
    found = json.loads(out)
    # Monday 2026-11-23 13:00 local: due at the end of Tuesday's working day.
    assert (found["received_at"], found["due_at"]) == (
        "2026-11-23T13:00:00+01:00",
        "2026-11-24T15:00:00+01:00",
    )


def test_hours_text_names_the_weekdays_in_danish(spec_config, capsys):
    argv = ["hours", "borgerservice", "--from", "2026-11-23", "--days", "7"]
    code, out, _ = run([*argv, "--config", spec_config], capsys)
    assert code == 0
    assert [line.split()[1] for line in out.splitlines()] == [
        "man",
        "tir",
        "ons",
        "tor",
        "fre",
        "lør",
        "søn",
    ]


@pytest.mark.parametrize("kind", ["osm", "asterisk", "ics", "jsonld"])
def test_export_json_gives_one_item_per_unit(spec_config, capsys, kind):
    code, out, _ = run(["export", kind, "borgerservice", "--json", "--config", spec_config], capsys)
    assert code == 0
    (item,) = json.loads(out)
    assert (item["unit"], item["format"]) == ("borgerservice", kind)
    assert isinstance(item["value"], dict if kind == "jsonld" else str) and item["value"]


@pytest.mark.parametrize("given", ["--config", "PHONESERVICE_CONFIG", "default"])
def test_a_missing_registry_names_the_path_tried_and_how_to_point_at_one(
    tmp_path, capsys, monkeypatch, given
):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("PHONESERVICE_CONFIG", raising=False)
    argv = ["status"]
    if given == "--config":
        argv += ["--config", "nope.toml"]
    elif given == "PHONESERVICE_CONFIG":
        monkeypatch.setenv("PHONESERVICE_CONFIG", "nope.toml")
    tried = tmp_path / ("config/opening_hours.toml" if given == "default" else "nope.toml")
    code, _, err = run(argv, capsys)
    assert code == 2
    assert "cannot be read: no such file" in err
    hint = err.splitlines()[-1]
    source = {"--config": "given with --config", "default": "the default"}
    assert f"no registry at {tried} ({source.get(given, f'given in {given}')})" in hint
    assert "--config PATH or PHONESERVICE_CONFIG=PATH" in hint


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--unit", "nosuch"], "unknown unit 'nosuch'"),
        (
            ["--from", "2026-12-01", "--to", "2026-11-01"],
            "--to 2026-11-01 is before --from 2026-12-01",
        ),
    ],
    ids=["unknown-unit", "reversed-range"],
)
def test_calls_refuses_what_cannot_match(spec_config, tmp_path, monkeypatch, capsys, argv, message):
    monkeypatch.setenv("PHONESERVICE_INSTANCE", str(tmp_path / "instance"))
    code, _, err = run(["calls", *argv, "--config", spec_config], capsys)
    assert (code, message in err) == (2, True)


def test_export_osm_states_on_stderr_the_period_it_is_exact_for(spec_config, capsys):
    code, out, err = run(["export", "osm", "borgerservice", "--config", spec_config], capsys)
    assert code == 0
    assert out.count("\n") == 1 and "exact" not in out  # stdout stays the bare value
    assert err == "exact from 2026-11-23 to 2027-11-22\n"


def test_export_osm_json_items_state_the_period_they_are_exact_for(spec_config, capsys):
    argv = ["export", "osm", "borgerservice", "--json", "--config", spec_config]
    code, out, err = run(argv, capsys)
    assert (code, err) == (0, "")
    (item,) = json.loads(out)
    assert (item["exact_from"], item["exact_to"]) == ("2026-11-23", "2027-11-22")


@pytest.mark.parametrize("kind", ["asterisk", "ics", "jsonld"])
def test_other_exports_state_no_osm_period(spec_config, capsys, kind):
    code, _, err = run(["export", kind, "borgerservice", "--config", spec_config], capsys)
    assert (code, err) == (0, "")
