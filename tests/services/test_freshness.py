"""Units that need a look: the ``check-config`` warnings, asked for today's date."""

from __future__ import annotations

import re
from datetime import date

from phoneservice.registry import Registry
from phoneservice.services.freshness import RUNS_OUT, VERIFY, needs_look
from phoneservice.services.hours import HoursService
from tests.conftest import TODAY, Clock, at, registry_from

UNITS = """
[[unit]]
id = "borgerservice"
name = "Borgerservice"
kind = "centre"
phone = "+45 56 57 57 57"
verified = 2025-11-01
hours = { "mon-fri" = ["10:00-14:00"] }

[[unit]]
id = "vaccination"
name = "Vaccinationslinjen"
kind = "centre"
phone = "+45 56 57 50 00"
verified = 2026-11-01

[[unit.exception]]
from = 2026-10-01
to = 2027-01-15
hours = ["09:00-12:00"]
reason = "Sæson"

[[unit]]
id = "julehjaelp"
name = "Julehjælp"
kind = "centre"
phone = "+45 56 57 50 01"

[[unit.exception]]
date = 2026-11-01
hours = ["09:00-12:00"]
reason = "Ansøgningsdag"

[[unit]]
id = "jobcenter"
name = "Jobcenter"
kind = "centre"
phone = "+45 56 57 50 02"
verified = 2026-06-01
hours = { "mon-fri" = ["09:00-15:00"] }
"""


def registry() -> Registry:
    return registry_from(UNITS)


def test_the_findings_name_unit_kind_and_dates() -> None:
    found = [(f.unit.id, f.kind, f.day, f.since) for f in needs_look(registry(), TODAY)]
    assert found == [
        ("borgerservice", VERIFY, date(2025, 11, 1), date(2026, 11, 2)),
        ("vaccination", RUNS_OUT, date(2027, 1, 15), date(2027, 1, 16)),
        ("julehjaelp", RUNS_OUT, date(2026, 11, 1), date(2026, 11, 2)),
    ]


def test_the_findings_are_the_warnings_of_check_config() -> None:
    loaded = registry()
    ids = list(loaded.units)
    warned = set()
    for warning in loaded.warnings:
        match = re.search(r"unit\[(\d+)\]\.(verified|exception)", str(warning))
        assert match, str(warning)
        warned.add((ids[int(match.group(1))], VERIFY if match.group(2) == "verified" else RUNS_OUT))
    assert {(f.unit.id, f.kind) for f in needs_look(loaded, TODAY)} == warned


def test_the_service_asks_for_today_not_the_day_the_file_was_loaded() -> None:
    later = Clock(at("2027-06-02T10:00"))  # a year and a day after Jobcenter's 2026-06-01
    found = {(f.unit.id, f.kind) for f in HoursService(registry(), later).needs_look()}
    assert ("jobcenter", VERIFY) in found
    assert ("jobcenter", VERIFY) not in {(f.unit.id, f.kind) for f in needs_look(registry(), TODAY)}
