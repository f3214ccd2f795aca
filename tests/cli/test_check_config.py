"""``phoneservice check-config``: the JSON summary, and files that cannot be read at all."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from phoneservice.registry import ConfigError, Problem, Registry, load_registry, parse_registry
from tests.conftest import run_cli as _run

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = "config/opening_hours.toml"
FIXED = datetime(2026, 11, 23, 12, tzinfo=UTC)
TODAY = FIXED.date()

SMALL = """\
[registry]
name = "Testkommune"
timezone = "Europe/Copenhagen"

[[unit]]
id = "borgerservice"
name = "Borgerservice"
kind = "centre"
phone = "+45 56 57 57 57"
notes = "Pas og kørekort"

[unit.hours]
"mon-fri" = ["10:00-14:00"]
"""


pytestmark = pytest.mark.usefixtures("at_repository_root")


def _only_error(err: str, path: str) -> str:
    """The one problem line of a failed check, after checking the summary line."""
    lines = err.splitlines()
    assert "Traceback" not in err
    assert len(lines) == 2, lines
    assert lines[1] == "1 error(s) in the registry"
    assert lines[0].startswith(f"{path}"), lines[0]
    return lines[0]


# --- the JSON summary ---------------------------------------------------------------------


def test_json_summary_of_the_shipped_registry() -> None:
    code, out, err = _run(["check-config", "--config", SHIPPED, "--json"])
    assert code == 0
    assert err == ""
    summary = json.loads(out)
    assert summary["file"] == SHIPPED
    assert summary["errors"] == 0
    assert summary["warnings"] == 0
    assert isinstance(summary["units"], int) and summary["units"] >= 20
    registry = load_registry(ROOT / SHIPPED, TODAY)
    assert summary["units"] == len(registry.units)


def test_json_summary_counts_the_warnings_printed_on_stderr() -> None:
    path = "tests/data/warn-config/several-warnings.toml"
    code, out, err = _run(["check-config", "--config", path, "--json"])
    assert code == 0
    summary = json.loads(out)
    problems = summary.pop("problems")
    assert summary == {"file": path, "units": 2, "errors": 0, "warnings": 3}
    assert [p["message"] for p in problems] == err.splitlines()
    assert len(err.splitlines()) == 3
    assert all(": warning: " in line for line in err.splitlines())


def test_json_with_errors_still_exits_2_with_the_problems_on_stderr() -> None:
    path = "tests/data/bad-config/many-errors.toml"
    code, out, err = _run(["check-config", "--config", path, "--json"])
    assert code == 2
    assert err.splitlines()[-1] == "7 error(s) in the registry"
    summary = json.loads(out)
    assert summary["errors"] == 7
    errors = [p["message"] for p in summary["problems"] if p["severity"] == "error"]
    assert errors == err.splitlines()[:-1]


def test_the_text_summary_names_the_file() -> None:
    code, out, _err = _run(["check-config", "--config", SHIPPED])
    assert code == 0
    assert out.startswith(f"{SHIPPED}: OK, ")


# --- files that cannot be read ------------------------------------------------------------


def test_a_missing_file_exits_2_and_names_it() -> None:
    from phoneservice.cli import CONFIG_HINT

    path = "config/no-such-file.toml"
    code, out, err = _run(["check-config", "--config", path])
    assert code == 2
    assert out == ""
    *problem, hint = err.splitlines(keepends=True)  # then how to point at the file
    assert hint.rstrip("\n") == (
        f"phoneservice: no registry at {Path(path).absolute()} (given with --config); {CONFIG_HINT}"
    )
    assert _only_error("".join(problem), path) == f"{path}: cannot be read: no such file"


def test_a_directory_instead_of_a_file() -> None:
    code, out, err = _run(["check-config", "--config", "config"])
    assert code == 2
    assert out == ""
    assert _only_error(err, "config") == "config: cannot be read: it is a directory, not a file"


def test_bytes_that_are_not_utf8_are_reported_with_their_line(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(SMALL.encode("latin-1"))  # "kørekort" becomes the single byte 0xf8
    code, out, err = _run(["check-config", "--config", str(path)])
    assert code == 2
    assert out == ""
    line = _only_error(err, str(path))
    assert line.startswith(f"{path}:10: is not UTF-8 text: byte(s) f8")
    assert "save the file as UTF-8" in line


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + SMALL.encode("utf-8"))
    code, out, err = _run(["check-config", "--config", str(path)])
    assert (code, err) == (0, "")
    assert out == f"{path}: OK, 1 unit, 0 warning(s)\n"


def test_an_empty_file_lacks_registry_and_units(tmp_path: Path) -> None:
    path = tmp_path / "empty.toml"
    path.write_text("# nothing here yet\n", encoding="utf-8")
    code, out, err = _run(["check-config", "--config", str(path)])
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"{path}: registry: is required: the file must have a [registry] table with name "
        "and timezone",
        f"{path}: unit: is required: the file must have at least one [[unit]]",
        "2 error(s) in the registry",
    ]


def test_nesting_too_deep_for_the_parser_is_an_error_not_a_crash(tmp_path: Path) -> None:
    path = tmp_path / "deep.toml"
    path.write_text(SMALL + "x = " + "[" * 5000 + "]" * 5000 + "\n", encoding="utf-8")
    code, _out, err = _run(["check-config", "--config", str(path)])
    assert code == 2
    assert "Traceback" not in err
    assert "is not valid TOML: arrays or tables are nested too deeply" in err


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root can read anything")
def test_a_file_without_read_permission(tmp_path: Path) -> None:
    path = tmp_path / "secret.toml"
    path.write_text(SMALL, encoding="utf-8")
    path.chmod(0)
    try:
        code, _out, err = _run(["check-config", "--config", str(path)])
    finally:
        path.chmod(0o600)
    assert code == 2
    assert _only_error(err, str(path)) == f"{path}: cannot be read: permission denied"


def test_the_file_comes_from_the_environment_without_config(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = "tests/data/bad-config/missing-unit-id.toml"
    monkeypatch.setenv("PHONESERVICE_CONFIG", path)
    code, _out, err = _run(["check-config"])
    assert code == 2
    assert err.splitlines()[0].startswith(f"{path}:")


# --- the Python API behind the command ----------------------------------------------------


def test_problems_carry_file_line_path_and_value() -> None:
    path = "tests/data/bad-config/many-errors.toml"
    with pytest.raises(ConfigError) as caught:
        load_registry(path, TODAY)
    problems = caught.value.problems
    assert all(isinstance(p, Problem) and p.file == path for p in problems)
    assert [p.line for p in problems] == [4, 9, 22, 35, 41, 45, 55]
    first = problems[0]
    assert (first.path, first.value, first.severity) == (
        ("registry", "timezone"),
        "Copenhagen",
        "error",
    )


def test_a_valid_text_gives_a_registry_with_no_warnings() -> None:
    registry = parse_registry(SMALL, "small.toml", date(2026, 11, 23))
    assert isinstance(registry, Registry)
    assert list(registry.units) == ["borgerservice"]
    assert registry.warnings == ()


# --- the switchboard warnings: stale verified dates, dated hours that run out ------------


def test_json_lists_the_run_out_and_stale_verified_warnings_with_line_and_path(
    tmp_path: Path,
) -> None:
    text = SMALL.replace(
        'timezone = "Europe/Copenhagen"\n',
        'timezone = "Europe/Copenhagen"\nverify_after_days = 60\n',
    ).replace('notes = "Pas og kørekort"\n', 'notes = "Pas og kørekort"\nverified = 2026-08-01\n')
    text += """
[[unit]]
id = "vaccination"
name = "Vaccinationslinjen"
kind = "centre"
phone = "+45 56 57 50 00"

[[unit.exception]]
date = 2026-12-10
hours = ["09:00-12:00"]
reason = "Ekstra vaccinationsdag"
"""
    path = tmp_path / "registry.toml"
    path.write_text(text, encoding="utf-8")
    code, out, err = _run(["check-config", "--config", str(path), "--json"])
    assert code == 0
    summary = json.loads(out)
    shapes = [(p["severity"], p["line"], p["path"]) for p in summary["problems"]]
    assert shapes == [
        ("warning", 12, "unit[0].verified"),
        ("warning", 24, "unit[1].exception[0].date"),
    ]
    assert summary["warnings"] == 2
    assert err.splitlines() == [p["message"] for p in summary["problems"]]
    assert "2026-08-01 was verified more than 60 days ago" in err
    assert "2026-12-10 is the last day with hours, in 17 days: from 2026-12-11" in err


def test_the_shipped_registry_stays_free_of_run_out_warnings_for_90_days() -> None:
    later = datetime(2027, 2, 20, 12, tzinfo=UTC)
    _code, _out, err = _run(["check-config", "--config", SHIPPED], clock=lambda: later)
    assert "last day with hours" not in err
