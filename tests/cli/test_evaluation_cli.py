"""``phoneservice evaluation`` (SPEC §8, §13): text, JSON, the PDF, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from tests.cli.test_report_cli import stored as stored  # the fixed week, for the CLI
from tests.conftest import run_cli
from tests.services.test_reports import REPORTED_AT

PERIOD = ["evaluation", "--from", "2026-11-16", "--to", "2026-11-20"]


def evaluation(*argv: str) -> tuple[int, str, str]:
    """Run the command at the report's instant."""
    return run_cli([*PERIOD, *argv], clock=lambda: REPORTED_AT)


def test_the_text_is_a_table_of_goals_per_unit(stored: None) -> None:
    code, out, err = evaluation()
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("Evaluering for ")
    assert lines[0].endswith("2026-11-16 til og med 2026-11-20")
    assert lines[1] == "Forrige periode: 2026-11-11 til og med 2026-11-15"
    header = next(line for line in lines if line.startswith("mål "))
    assert header.split("  ")[0] == "mål" and "forrige periode" in header and "nået" in header
    answer = next(line for line in lines if line.startswith("Svarprocent i telefontiden"))
    assert "(" in answer  # the number of calls behind the figure
    assert any(line.startswith("Jobcenter") for line in lines)
    assert any(line.startswith("Tilbagekald: oprettet") for line in lines)


def test_json_is_the_shape_of_the_api(stored: None) -> None:
    code, out, _ = evaluation("--json", "--unit", "jobcenter")
    assert code == 0
    shape = json.loads(out)
    assert (shape["from"], shape["to"], shape["unit"]) == ("2026-11-16", "2026-11-20", "jobcenter")
    assert (shape["previous_from"], shape["previous_to"]) == ("2026-11-11", "2026-11-15")
    assert [u["unit"] for u in shape["units"]] == ["jobcenter"]
    assert "figures" in shape["definitions"] and "evaluation" in shape["definitions"]


def test_pdf_writes_the_document(stored: None, tmp_path: Path) -> None:
    target = tmp_path / "evaluering.pdf"
    code, out, _ = evaluation("--pdf", str(target))
    assert code == 0 and out.startswith("Evaluering for ")
    reader = PdfReader(target)
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Evaluering af telefonbetjeningen" in text
    assert "Fra og med 2026-11-16 til og med 2026-11-20" in text
    assert "Svarprocent i telefontiden" in text and "Tilbagekald" in text


def test_a_pdf_that_cannot_be_written_exits_2(stored: None, tmp_path: Path) -> None:
    code, out, err = evaluation("--pdf", str(tmp_path / "no-such-folder" / "e.pdf"))
    assert (code, out) == (2, "")
    assert "--pdf: cannot write" in err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--to", "2026-11-01"], "before it starts"),
        (["--unit", "nobody"], "unknown unit 'nobody'"),
        (["--from", "2026-13-01"], "--from: '2026-13-01' is not a date"),
    ],
    ids=["reversed-range", "unknown-unit", "bad-date"],
)
def test_invalid_input_exits_2(stored: None, argv: list[str], message: str) -> None:
    code, out, err = evaluation(*argv)
    assert (code, out) == (2, "")
    assert message in err


def test_from_and_to_are_required() -> None:
    with pytest.raises(SystemExit) as stopped:
        run_cli(["evaluation", "--from", "2026-11-16"])
    assert stopped.value.code == 2
