"""The switchboard keys: ``transfer``, ``transfer_public``, ``verify_after_days``, and the
warnings for stale ``verified`` dates and dated hours that run out."""

from __future__ import annotations

import pytest

from phoneservice.registry import ConfigError, Registry
from phoneservice.registry.coverage import RUN_OUT_DAYS
from tests.conftest import CHRISTMAS_CLOSURES, HEADER, TESTKOMMUNE, TODAY, registry_from

UNIT = """
[[unit]]
id = "borgerservice"
name = "Borgerservice"
kind = "centre"
phone = "+45 56 57 57 57"
hours = {{ "mon-fri" = ["10:00-14:00"] }}
{extra}
"""


def unit_with(extra: str, header: str = HEADER) -> Registry:
    return registry_from(UNIT.format(extra=extra), header=header)


def problems(extra: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        unit_with(extra)
    return [str(p) for p in caught.value.problems]


@pytest.mark.parametrize(
    "written", ["4512", "+45 56 57 57 57", "56575757", " 45 12 "], ids=str.strip
)
def test_a_transfer_number_is_kept_as_written(written: str) -> None:
    unit = unit_with(f'transfer = "{written}"').unit("borgerservice")
    assert unit.transfer == written.strip()
    assert unit.transfer_public is False


def test_transfer_public_is_read_and_without_transfer_nothing_is_shown() -> None:
    unit = unit_with('transfer = "4512"\ntransfer_public = true').unit("borgerservice")
    assert unit.transfer_public is True
    assert unit_with("").unit("borgerservice").transfer is None


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ('"45-12"', '"45-12" is not an extension or phone number: use digits and spaces'),
        ('"4512+"', '"4512+" is not an extension or phone number: use digits and spaces'),
        ('"lokal 4512"', '"lokal 4512" is not an extension or phone number'),
        ('"12"', '"12" is not an extension or phone number: it has 2 digits, not 3 to 15'),
        ('"+45 1234 5678 9012 345"', "it has 17 digits, not 3 to 15"),
        ('""', '"" is not an extension or phone number'),
        ("4512", "4512 must be a string in"),
    ],
    ids=["dash", "plus-last", "words", "too-short", "too-long", "empty", "integer"],
)
def test_a_bad_transfer_names_file_line_key_and_value(value: str, message: str) -> None:
    (problem,) = problems(f"transfer = {value}")
    file, line, rest = problem.split(":", 2)
    text = (HEADER + CHRISTMAS_CLOSURES + UNIT.format(extra=f"transfer = {value}")).split("\n")
    assert file == "test.toml"
    assert text[int(line) - 1] == f"transfer = {value}"
    assert rest.startswith(" unit[0].transfer: ")
    assert message in rest


def test_transfer_public_must_be_true_or_false() -> None:
    (problem,) = problems('transfer = "4512"\ntransfer_public = "ja"')
    assert 'unit[0].transfer_public: "ja" must be true or false (without quotes)' in problem


def test_transfer_public_without_a_transfer_is_warned_about() -> None:
    (warning,) = unit_with("transfer_public = true").warnings
    assert warning.path == ("unit", 0, "transfer_public")
    assert str(warning).endswith(
        "warning: unit[0].transfer_public: true has no effect: the unit has no transfer"
    )


def registry_header(lines: str) -> str:
    return TESTKOMMUNE + lines + '\n[calendar]\ncountry = "DK"\n'


def test_verify_after_days_defaults_to_a_year_and_can_be_set() -> None:
    assert unit_with("").verify_after_days == 365
    assert unit_with("", registry_header("verify_after_days = 30")).verify_after_days == 30


@pytest.mark.parametrize("value", ["0", "-5", '"30"', "1.5"])
def test_verify_after_days_must_be_a_whole_number_above_zero(value: str) -> None:
    with pytest.raises(ConfigError) as caught:
        unit_with("", registry_header(f"verify_after_days = {value}"))
    (problem,) = caught.value.problems
    assert problem.path == ("registry", "verify_after_days")
    assert problem.line == 5


def warnings(registry: Registry) -> list[str]:
    return [str(w) for w in registry.warnings]


@pytest.mark.parametrize(
    ("days", "verified", "warned"),
    [
        (None, "2025-11-23", False),
        (None, "2025-11-22", True),
        (30, "2026-10-24", False),
        (30, "2026-10-23", True),
        (1, "2026-11-22", False),
        (1, "2026-11-21", True),
    ],
    ids=["year-exactly", "year-and-a-day", "30-exactly", "31", "1-exactly", "2"],
)
def test_a_verified_date_is_stale_after_verify_after_days(
    days: int | None, verified: str, warned: bool
) -> None:
    header = registry_header("" if days is None else f"verify_after_days = {days}")
    found = warnings(unit_with(f"verified = {verified}", header))
    stale = [w for w in found if "unit[0].verified" in w]
    assert bool(stale) is warned
    span = "a year" if days is None else f"{days} days"
    assert all(f"was verified more than {span} ago" in w for w in stale)


def test_the_file_verified_date_follows_verify_after_days_too() -> None:
    header = registry_header("verified = 2026-10-01\nverify_after_days = 30")
    (warning,) = warnings(unit_with("", header))
    assert warning.startswith("test.toml:5: warning: registry.verified: 2026-10-01")


# --- dated hours that run out ---------------------------------------------------------

DATED = """
[[unit]]
id = "vaccination"
name = "Vaccinationslinjen"
kind = "centre"
phone = "+45 56 57 50 00"
{recurring}
[[unit.exception]]
from = 2026-10-01
to = {last}
hours = ["09:00-12:00"]
reason = "Sæson"

[[unit.exception]]
date = 2027-12-01
hours = []
reason = "Lukket"
"""


def dated(last: str, recurring: str = "") -> list[str]:
    registry = registry_from(DATED.format(last=last, recurring=recurring))
    return [w for w in warnings(registry) if "last day with hours" in w]


def test_dated_hours_that_end_within_90_days_are_warned_at_the_last_exception() -> None:
    (warning,) = dated("2027-01-15")
    assert "warning: unit[0].exception[0].to: 2027-01-15 is the last day with hours" in warning
    assert "in 53 days: from 2027-01-16 the unit is always shown as closed" in warning


def test_the_boundary_is_90_days_from_today() -> None:
    assert RUN_OUT_DAYS == 90
    assert dated("2027-02-20")  # 89 days after 2026-11-23
    assert not dated("2027-02-21")  # 90 days


def test_dated_hours_that_already_ended_are_warned_as_such() -> None:
    found = dated("2026-11-01")
    assert any("2026-11-01 was the last day with hours: since 2026-11-02" in w for w in found)


@pytest.mark.parametrize(
    "recurring",
    [
        'hours = { fri = ["10:00-11:00"] }',
        """
[[unit.season]]
name = "Sommer"
from = "06-01"
to = "08-31"
hours = { "mon-fri" = ["10:00-12:00"] }
""",
    ],
    ids=["weekly-hours", "season"],
)
def test_weekly_hours_or_a_season_cover_after_the_dated_hours(recurring: str) -> None:
    assert not dated("2027-01-15", recurring)


def test_a_closed_exception_later_does_not_count_as_hours() -> None:
    assert TODAY.isoformat() == "2026-11-23"
    assert dated("2027-01-15")  # the closed 2027-12-01 is later, but has no hours
