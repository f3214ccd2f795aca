"""Finding a unit by its number: the digit forms of a number and the reverse search."""

from __future__ import annotations

import pytest

from phoneservice.domain.units import Unit, number_forms, query_digits
from tests.conftest import registry_from

UNITS = """
[[unit]]
id = "borgerservice"
name = "Borgerservice"
kind = "centre"
phone = "+45 56 57 57 57"
transfer = "4512"
dids = ["70101010"]
tags = ["pas"]
hours = { "mon-fri" = ["10:00-14:00"] }

[[unit]]
id = "skat"
name = "Skattestyrelsen"
kind = "authority"
phone = "72 22 18 18"
hours = { "mon-fri" = ["09:00-16:00"] }

[[unit]]
id = "udland"
name = "Udlandslinjen"
kind = "authority"
phone = "+46 8 123 456 78"
transfer = "0045 33 12 34 56"
hours = { "mon-fri" = ["09:00-16:00"] }
"""


@pytest.fixture(scope="module")
def units() -> dict[str, Unit]:
    return dict(registry_from(UNITS).units)


@pytest.mark.parametrize(
    ("written", "forms"),
    [
        ("+45 56 57 57 57", ("56575757", "4556575757", "004556575757")),
        ("0045 56 57 57 57", ("56575757", "4556575757", "004556575757")),
        ("4556575757", ("56575757", "4556575757", "004556575757")),
        ("56 57 57 57", ("56575757", "4556575757", "004556575757")),
        ("4512", ("4512",)),
        ("114", ("114",)),
        ("+46 8 123 456 78", ("46812345678", "0046812345678")),
        ("", ()),
    ],
    ids=["plus45", "0045", "45-without-plus", "national", "extension", "short", "sweden", "empty"],
)
def test_the_digit_forms_of_a_number(written: str, forms: tuple[str, ...]) -> None:
    assert number_forms(written) == forms


@pytest.mark.parametrize(
    ("query", "digits"),
    [
        ("56 57 57 57", "56575757"),
        ("+4556575757", "4556575757"),
        ("(+45) 5657-5757", "4556575757"),
        ("pas", None),
        ("tast 1", None),
        ("+", None),
        ("  ", None),
    ],
    ids=["spaces", "plus", "punctuation", "word", "words-and-digit", "plus-alone", "blank"],
)
def test_only_a_query_of_digits_and_separators_is_a_number(query: str, digits: str | None) -> None:
    assert query_digits(query) == digits


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("56 57 57 57", {"borgerservice"}),
        ("+4556575757", {"borgerservice"}),
        ("56575757", {"borgerservice"}),
        ("004556575757", {"borgerservice"}),
        ("+45 5657", {"borgerservice"}),
        ("4512", {"borgerservice"}),  # the transfer number
        ("70 10 10 10", {"borgerservice"}),  # a DID
        ("+45 70101010", {"borgerservice"}),
        ("+45 72 22 18 18", {"skat"}),
        ("0046 8 123", {"udland"}),
        ("+45 33 12 34 56", {"udland"}),  # a transfer written with 0045
        ("99 99 99 99", set()),
        ("pas", {"borgerservice"}),  # words still search id, name and tags
    ],
    ids=lambda value: str(value),
)
def test_a_number_in_any_format_finds_whose_it_is(
    units: dict[str, Unit], query: str, found: set[str]
) -> None:
    assert {unit_id for unit_id, unit in units.items() if unit.matches(query)} == found


def test_the_transfer_number_is_shown_to_staff_and_to_visitors_only_when_public(
    units: dict[str, Unit],
) -> None:
    unit = units["borgerservice"]
    assert unit.transfer_shown(staff=True) == "4512"
    assert unit.transfer_shown(staff=False) is None
    shown = UNITS.replace('transfer = "4512"', 'transfer = "4512"\ntransfer_public = true')
    public = registry_from(shown)
    assert public.unit("borgerservice").transfer_shown(staff=False) == "4512"
    assert units["skat"].transfer_shown(staff=True) is None
