"""Shared fixtures: registries written as TOML text and a fixed clock."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from phoneservice.registry import Registry, load_registry, parse_registry

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "config" / "opening_hours.toml"
DATA = Path(__file__).resolve().parent / "data"
TZ = ZoneInfo("Europe/Copenhagen")
TODAY = date(2026, 11, 23)
FIXED_NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)

HEADER = """
[registry]
name = "Testkommune"
timezone = "Europe/Copenhagen"

[calendar]
country = "DK"
closed = ["12-24", "12-31"]
closes_early = { "05-01" = "12:00", "06-05" = "12:00" }
rules = ["day-after-ascension"]
workday_end = "15:00"
"""

CHRISTMAS_CLOSURES = """
[[calendar.closure]]
from = 2025-12-29
to = 2025-12-30
reason = "Juleferie"

[[calendar.closure]]
from = 2026-12-28
to = 2026-12-30
reason = "Juleferie"

[[calendar.closure]]
from = 2027-12-27
to = 2027-12-30
reason = "Juleferie"
"""

BORGERSERVICE = """
[[unit]]
id = "borgerservice"
name = "Borgerservice"
kind = "centre"
phone = "+45 56 57 57 57"
queues = ["borgerservice"]
dids = ["70101010"]

[unit.hours]
"mon-wed" = ["10:00-14:00"]
thu = ["10:00-17:00"]
fri = ["10:00-13:00"]

[[unit.season]]
name = "Sommertelefontid"
from = "07-01"
to = "07-31"
hours = { "mon-thu" = ["10:00-13:00"], fri = ["10:00-12:00"] }
"""


def registry_from(units: str, *, closures: bool = True, header: str = HEADER) -> Registry:
    """A registry built from TOML text through the real loader."""
    text = header + (CHRISTMAS_CLOSURES if closures else "") + units
    return parse_registry(text, "test.toml", TODAY)


def at(text: str) -> datetime:
    """An ISO time; naive ones are Copenhagen wall-clock (first occurrence)."""
    value = datetime.fromisoformat(text)
    return value if value.tzinfo else value.replace(tzinfo=TZ)


@pytest.fixture(scope="session")
def shipped() -> Registry:
    """The registry file the project ships."""
    return load_registry(SHIPPED_CONFIG, TODAY)


@pytest.fixture(scope="session")
def spec_registry() -> Registry:
    """Borgerservice as in the SPEC, on the municipal calendar with Christmas closures."""
    return registry_from(BORGERSERVICE)
