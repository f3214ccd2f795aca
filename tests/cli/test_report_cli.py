"""``phoneservice report`` (SPEC §7, §8): JSON with definitions, text, CSV, exit codes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import run_cli
from tests.services.test_ingest import LAB_REGISTRY
from tests.services.test_reports import (
    EXPECTED_CALLBACKS,
    EXPECTED_CALLS,
    REPORTED_AT,
    build_office,
    fill_week,
)

WEEK = ["report", "--from", "2026-11-16", "--to", "2026-11-20"]


@pytest.fixture
def stored(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, database_url: str) -> None:
    """The fixed week of tests/services/test_reports.py in the database the command line uses."""
    config = tmp_path / "lab.toml"
    config.write_text(LAB_REGISTRY, encoding="utf-8")
    monkeypatch.setenv("PHONESERVICE_CONFIG", str(config))
    monkeypatch.setenv("PHONESERVICE_DATABASE_URL", database_url)
    for office in build_office(database_url):
        fill_week(office)


def report(*argv: str) -> tuple[int, str, str]:
    """Run the command at the report's instant."""
    return run_cli([*WEEK, *argv], clock=lambda: REPORTED_AT)


def test_json_has_definitions_units_and_total(stored: None) -> None:
    code, out, err = report("--json")
    assert (code, err) == (0, "")
    shape = json.loads(out)
    assert list(shape)[:7] == ["from", "to", "unit", "by", "generated_at", "definitions", "units"]
    assert shape["definitions"]["short_abandon_s"] == 5
    assert "answer_rate" in shape["definitions"]["figures"]
    total = shape["total"]
    assert {k: total["calls"][k] for k in EXPECTED_CALLS["total"]} == EXPECTED_CALLS["total"]
    assert total["callbacks"] == EXPECTED_CALLBACKS["total"]
    assert "periods" not in shape


def test_json_split_by_week_has_periods(stored: None) -> None:
    code, out, _ = report("--json", "--by", "week", "--unit", "jobcenter")
    assert code == 0
    shape = json.loads(out)
    assert [(p["from"], p["to"]) for p in shape["periods"]] == [("2026-11-16", "2026-11-20")]
    assert shape["periods"][0]["total"]["calls"]["calls"] == 10
    assert [row["unit"] for row in shape["units"]] == ["jobcenter"]


def test_text_prints_tables_and_definitions(stored: None) -> None:
    code, out, _ = report()
    assert code == 0
    assert "Rapport for Laboratoriet: 2026-11-16 til og med 2026-11-20 (alle enheder)" in out
    total = next(line for line in out.splitlines() if line.startswith("I alt") and "%" in line)
    assert "45,5 %" in total and "83,3 %" in total and "27,7 s" in total and "60,5 s" in total
    empty = next(line for line in out.splitlines() if line.startswith("Børn & Læring"))
    assert "–" in empty and "0 %" not in empty
    assert "Definitioner" in out
    assert "Svarprocent i telefontiden = besvarede opkald i telefontiden" in out
    assert "aldrig som 0 %." in out  # the %% of the message id is a single % in print
    assert "11 t 38 m" in out  # the median to acknowledge of the total: 41,880 s (bucketed)


def test_csv_prints_one_table(stored: None) -> None:
    code, out, _ = report("--csv", "callbacks")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[-1]["name"] == "I alt" and rows[-1]["created"] == "6"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "2026-11-01"], "before it starts"),
        (["--unit", "nobody"], "unknown unit 'nobody'"),
        (["--json", "--csv", "calls"], "cannot be combined"),
    ],
    ids=["reversed-range", "unknown-unit", "json-and-csv"],
)
def test_invalid_input_exits_2(stored: None, argv: list[str], message: str) -> None:
    code, out, err = report(*argv)
    assert (code, out) == (2, "")
    assert message in err


def test_a_bad_date_exits_2(stored: None) -> None:
    code, _, err = run_cli(["report", "--from", "2026-13-01", "--to", "2026-12-31"])
    assert code == 2
    assert "--from: '2026-13-01' is not a date" in err


def test_from_and_to_are_required() -> None:
    with pytest.raises(SystemExit) as stopped:
        run_cli(["report", "--from", "2026-11-16"])
    assert stopped.value.code == 2
