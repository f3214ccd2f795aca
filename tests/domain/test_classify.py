"""The one call classifier, as a table: a finished call's facts in, its verdict out."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from phoneservice.domain.calls.classify import (
    CallFacts,
    Verdict,
    classify,
    open_at_arrival,
)
from phoneservice.domain.calls.records import Segment

SHORT_S = 5
OPEN, CLOSED, NO_UNIT = True, False, None


def facts(
    *endings: str,
    wait: int | None = 3,
    unit_open: bool | None = OPEN,
    end_seen: bool = True,
    pbx_closed: bool = False,
) -> CallFacts:
    """The facts of a call whose queue visits ended as ``endings``."""
    return CallFacts(endings, wait if endings else None, unit_open, end_seen, pbx_closed)


TABLE = [
    # (facts, outcome, during_hours, short_abandon)
    pytest.param(facts("answered"), "answered", True, False, id="answered"),
    pytest.param(
        facts("answered", unit_open=CLOSED), "answered", False, False, id="answered-closed"
    ),
    pytest.param(facts("abandoned"), "abandoned", True, True, id="abandon-short"),
    pytest.param(facts("abandoned", wait=0), "abandoned", True, True, id="abandon-no-wait"),
    pytest.param(facts("abandoned", wait=SHORT_S), "abandoned", True, False, id="abandon-at-limit"),
    pytest.param(facts("abandoned", wait=30), "abandoned", True, False, id="abandon-long"),
    pytest.param(
        facts("abandoned", wait=None), "abandoned", True, False, id="abandon-wait-unknown"
    ),
    pytest.param(facts("abandoned", unit_open=CLOSED), "closed", False, False, id="abandon-closed"),
    pytest.param(
        facts("abandoned", unit_open=NO_UNIT), "abandoned", False, True, id="abandon-no-unit"
    ),
    pytest.param(facts("timeout", wait=1), "timeout", True, False, id="timeout"),
    pytest.param(facts("timeout", unit_open=CLOSED), "closed", False, False, id="timeout-closed"),
    pytest.param(facts("unanswered"), "unanswered", True, False, id="exit-empty"),
    pytest.param(
        facts("unanswered", unit_open=CLOSED), "closed", False, False, id="exit-empty-closed"
    ),
    pytest.param(facts(), "unanswered", True, False, id="left-in-menu"),
    pytest.param(facts(unit_open=CLOSED), "closed", False, False, id="never-queued-closed"),
    pytest.param(facts(end_seen=False), "unknown", True, False, id="never-queued-end-lost"),
    pytest.param(facts(pbx_closed=True), "closed", True, False, id="dialplan-closed-kept-out"),
    pytest.param(
        facts("abandoned", pbx_closed=True),
        "abandoned",
        True,
        True,
        id="dialplan-closed-yet-queued",
    ),
    pytest.param(facts(unit_open=NO_UNIT), "unanswered", False, False, id="no-unit-in-menu"),
    pytest.param(facts("unknown"), "unknown", True, False, id="end-lost-in-queue"),
    pytest.param(facts("unknown", unit_open=CLOSED), "unknown", False, False, id="end-lost-closed"),
    pytest.param(
        facts("answered", "abandoned", wait=2), "abandoned", True, True, id="answered-then-abandon"
    ),
    pytest.param(
        facts("answered", "abandoned", wait=30, unit_open=CLOSED),
        "abandoned",
        False,
        False,
        id="answered-then-abandon-closed",
    ),
    pytest.param(
        facts("timeout", "abandoned", unit_open=CLOSED),
        "closed",
        False,
        False,
        id="two-queues-no-agent-closed",
    ),
]


@pytest.mark.parametrize(("call", "outcome", "during_hours", "short"), TABLE)
def test_classify(call: CallFacts, outcome: str, during_hours: bool, short: bool) -> None:
    """Each row is a kind of call, named by its id."""
    assert classify(call, SHORT_S) == Verdict(outcome, during_hours, short)


@pytest.mark.parametrize(
    ("wait", "threshold", "short"),
    [(0, 0, False), (0, 1, True), (3, 3, False), (3, 4, True)],
    ids=["zero-limit", "zero-wait", "wait-at-limit", "wait-below-limit"],
)
def test_short_abandon_is_strictly_below_the_limit(wait: int, threshold: int, short: bool) -> None:
    """Short means shorter than the limit; a limit of 0 makes no abandon short."""
    assert classify(facts("abandoned", wait=wait), threshold).short_abandon is short


def test_facts_of_segments_sum_the_known_waits() -> None:
    """A transferred call's wait is the sum of its visits' known waits."""
    joined = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    visits = [
        Segment("borgerservice", "bs", joined, None, "answered", 2, 1, 0, "Anne"),
        Segment("jobcenter", "jc", joined, None, "timeout", None, 0, 0, None),
        Segment("jobcenter", "jc", joined, None, "abandoned", 4, 0, 0, None),
    ]
    made = CallFacts.of(visits, unit_open=CLOSED, end_seen=False)
    assert made == CallFacts(("answered", "timeout", "abandoned"), 6, CLOSED, False, False)
    assert CallFacts.of([], unit_open=OPEN).wait_s is None


def test_open_at_arrival_asks_the_registry_only_for_a_unit() -> None:
    """No unit, no question: the call is simply not during any unit's hours."""
    asked: list[tuple[str, datetime]] = []

    def is_open(unit: str, at: datetime) -> bool:
        asked.append((unit, at))
        return unit == "bs"

    at = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)
    assert (open_at_arrival("bs", at, is_open), open_at_arrival("jc", at, is_open)) == (True, False)
    assert open_at_arrival(None, at, is_open) is None
    assert asked == [("bs", at), ("jc", at)]
