"""``[calendar] country``: the holidays' country is also the region of national caller numbers."""

from __future__ import annotations

import pytest

from phoneservice.bootstrap import build_queue_log_calls, build_tracker, restart_settings
from phoneservice.pbx.queue_log import parse_queue_log
from phoneservice.registry import Registry, parse_registry
from tests.conftest import LAB_HEADER, LAB_REGISTRY, TODAY
from tests.domain.test_call_tracker import TRACES, by_uniqueid, feed_all, recorded_events

NATIONAL = "1796292180.285"  # l-003 sent 55193292


def lab(country: str | None) -> Registry:
    """The lab registry, with ``[calendar] country`` when given."""
    calendar = f'\n[calendar]\ncountry = "{country}"\n' if country else ""
    text = LAB_REGISTRY.replace(LAB_HEADER, LAB_HEADER + calendar, 1)
    return parse_registry(text, "lab.toml", TODAY)


@pytest.mark.parametrize(
    ("written", "country"), [(None, "DK"), ("DK", "DK"), ("DNK", "DK"), ("SE", "SE")]
)
def test_the_country_is_kept_as_its_two_letter_code(written, country):
    assert lab(written).country == country


def test_a_changed_country_restarts_the_call_log():
    assert restart_settings(lab("DK")) == restart_settings(lab(None))
    assert restart_settings(lab("SE")) != restart_settings(lab("DK"))


@pytest.mark.parametrize(("country", "number"), [("DK", "+4555193292"), ("SE", "+4655193292")])
def test_both_witnesses_read_national_numbers_in_the_registrys_country(country, number):
    registry = lab(country)
    tracker = build_tracker(registry, "lab")
    live = by_uniqueid(feed_all(tracker, recorded_events("l-ivr-and-callerid.ami")))
    with (TRACES / "l-ivr-and-callerid.queue_log").open(encoding="utf-8") as lines:
        rebuilt = by_uniqueid(
            build_queue_log_calls(registry, "lab").calls(parse_queue_log(lines)[0])[0]
        )
    assert live[NATIONAL].caller_number == rebuilt[NATIONAL].caller_number == number
    assert live[NATIONAL].caller_raw == rebuilt[NATIONAL].caller_raw == "55193292"
