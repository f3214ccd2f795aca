"""``caller_raw`` in ``GET /api/v1/calls``: the caller ID as received, shown like the number."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import at
from tests.web.test_api_callbacks import call, conforms, token
from tests.web.test_web_callbacks import World, make_world

WITHHELD, NATIONAL = "anonymous", "55193292"


@pytest.fixture
def world(database_url: str) -> Iterator[World]:
    for world in make_world(database_url):
        queue = world.queue
        for unit, raw, number in (
            ("borgerservice", WITHHELD, None),
            ("borgerservice", NATIONAL, "+4555193292"),
            ("jobcenter", NATIONAL, "+4555193292"),
        ):
            when = at("2026-11-24T09:30")
            queue.store(
                queue.call(when, unit=unit, queue=unit, caller_number=number, caller_raw=raw)
            )
        yield world


def raws(calls: list[dict[str, object]]) -> set[tuple[object, object, object]]:
    return {(c["unit"], c["caller_number"], c["caller_raw"]) for c in calls if c["caller_raw"]}


def test_a_token_with_the_callbacks_scope_sees_the_raw_caller_id(world):
    answer = call(world.client(), "GET", "/calls", token(world))
    assert answer.status_code == 200
    assert raws(answer.get_json()) == {
        ("borgerservice", None, WITHHELD),
        ("borgerservice", "+4555193292", NATIONAL),
        ("jobcenter", "+4555193292", NATIONAL),
    }
    conforms("/calls", "GET", answer)


def test_the_raw_caller_id_of_a_unit_not_served_is_null(world):
    answer = call(world.client("bo"), "GET", "/calls")  # bo serves borgerservice only
    calls = answer.get_json()
    assert raws(calls) == {
        ("borgerservice", None, WITHHELD),
        ("borgerservice", "+4555193292", NATIONAL),
    }
    assert all(c["caller_raw"] is None for c in calls if c["unit"] != "borgerservice")
    conforms("/calls", "GET", answer)
