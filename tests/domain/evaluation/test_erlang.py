"""Erlang B, C and A against published values and their defining properties.

Erlang B is checked against the ACD trunk engineering table of Avaya's *Basic Call
Management System (BCMS) Operations*, 07-300061 Issue 5.0 (May 2005), p. 137: the load
in erlangs that N trunks carry at a given blocking probability, to four significant
figures. The note above the table calls the entries offered loads, but its worked example
and the first row (1 trunk, 1 % → 0.0100, where the offered load is 0.0101) show they are
the *carried* load ``A·(1 - B)``. Erlang C is built on that same recursion and checked against the
closed formula in exact fractions and against the worked value ErlangC[3, 2] = 4/9 of
the Wolfram Language documentation (``ErlangC``, "Basic Examples").
"""

from __future__ import annotations

import math
from fractions import Fraction
from math import factorial, isclose

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from phoneservice.domain.evaluation.erlang import (
    _served_within,
    _stationary,
    agents_needed_a,
    agents_needed_c,
    erlang_a,
    erlang_b,
    erlang_c,
    service_level_a,
    service_level_c,
)

# (trunks, blocking probability, offered erlangs) from the table cited above.
AVAYA_TRUNK_TABLE = [
    (1, 0.01, 0.0100),
    (2, 0.01, 0.1511),
    (5, 0.0001, 0.4519),
    (5, 0.05, 2.108),
    (10, 0.001, 3.089),
    (10, 0.01, 4.417),
    (14, 0.01, 7.278),
    (16, 0.01, 8.786),
    (20, 0.02, 12.92),
    (30, 0.005, 18.94),
    (50, 0.01, 37.52),
    (70, 0.05, 61.43),
]


def _load_for(trunks: int, blocking: float) -> float:
    """The offered load at which ``trunks`` block ``blocking`` of the calls (bisection)."""
    low, high = 0.0, 10.0 * trunks
    for _ in range(200):
        middle = (low + high) / 2
        low, high = (middle, high) if erlang_b(middle, trunks) < blocking else (low, middle)
    return low


@pytest.mark.parametrize(("trunks", "blocking", "erlangs"), AVAYA_TRUNK_TABLE)
def test_erlang_b_gives_the_published_trunk_table(trunks, blocking, erlangs):
    carried = _load_for(trunks, blocking) * (1 - blocking)
    assert float(f"{carried:.4g}") == erlangs


def _exact_c(traffic: Fraction, agents: int) -> Fraction:
    """Erlang C by its closed formula in exact arithmetic."""
    top = traffic**agents / factorial(agents) * agents / (agents - traffic)
    return top / (sum(traffic**k / factorial(k) for k in range(agents)) + top)


def test_erlang_c_of_two_erlangs_on_three_agents_is_four_ninths():
    assert isclose(erlang_c(2.0, 3), 4 / 9, rel_tol=1e-12)


@pytest.mark.parametrize(
    ("traffic", "agents"), [(0.5, 1), (3, 5), (9.5, 12), (48, 55), (100, 110), (230, 250)]
)
def test_erlang_c_equals_the_closed_formula(traffic, agents):
    exact = _exact_c(Fraction(traffic), agents)
    assert isclose(erlang_c(traffic, agents), float(exact), rel_tol=1e-10)


def test_thousands_of_erlangs_do_not_overflow():
    assert 0 < erlang_c(5000.0, 5100) < 1
    assert agents_needed_c(5000 * 3600 / 180, 180, 20, 0.8) is not None
    assert erlang_c(5000.0, 4000) == 1.0  # too few agents: everybody waits


def test_the_service_level_follows_the_textbook_formula():
    # 40 calls an hour of 180 s on 3 agents: A = 2, C = 4/9, SL(20 s) = 1 - C·e^(-(3-2)·20/180).
    expected = 1 - 4 / 9 * 2.718281828459045 ** (-20 / 180)
    assert isclose(service_level_c(40, 180, 3, 20), expected, rel_tol=1e-12)


def test_no_calls_need_no_agents_and_overload_gives_no_service():
    assert agents_needed_c(0, 180, 20, 0.8) == 0 and agents_needed_a(0, 180, 60, 20, 0.8) == 0
    assert service_level_c(100, 180, 5, 20) == 0.0  # 5 erlangs on 5 agents


def test_erlang_a_with_endless_patience_is_erlang_c():
    cases = ((40, 180, 3, 20), (300, 240, 23, 60), (9, 600, 2, 30))
    for calls, handling, agents, threshold in cases:
        c_level = service_level_c(calls, handling, agents, threshold)
        a = erlang_a(calls, handling, 1e12, agents, threshold)
        assert isclose(a.service_level, c_level, abs_tol=1e-6)
        assert isclose(a.of_answered, c_level, abs_tol=1e-6)
        assert isclose(a.waiting, erlang_c(calls * handling / 3600, agents), abs_tol=1e-6)
        assert a.abandoning < 1e-6


def test_erlang_a_counts_a_caller_who_gives_up_as_not_answered_in_time():
    a = erlang_a(40, 180, 30, 3, 20)
    assert 0 < a.abandoning < a.waiting < 1
    assert a.service_level <= 1 - a.abandoning
    assert a.service_level < a.of_answered


CALLS = st.floats(min_value=1, max_value=400)
HANDLING = st.floats(min_value=30, max_value=900)
THRESHOLD = st.floats(min_value=5, max_value=120)
PATIENCE = st.floats(min_value=5, max_value=3600)
TARGET = st.floats(min_value=0.05, max_value=0.99)
MORE = st.floats(min_value=1, max_value=9)


@settings(max_examples=60, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, st.integers(min_value=1, max_value=60))
def test_more_agents_never_lower_the_erlang_c_service_level(calls, handling, threshold, agents):
    lower = service_level_c(calls, handling, agents, threshold)
    assert service_level_c(calls, handling, agents + 1, threshold) >= lower


@settings(max_examples=60, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, st.integers(min_value=1, max_value=60), st.floats(1, 50))
def test_more_calls_never_raise_the_erlang_c_service_level(
    calls, handling, threshold, agents, more
):
    level = service_level_c(calls, handling, agents, threshold)
    assert service_level_c(calls + more, handling, agents, threshold) <= level + 1e-12


@settings(max_examples=40, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, PATIENCE, st.integers(min_value=1, max_value=40))
def test_more_agents_never_lower_the_erlang_a_service_level(
    calls, handling, threshold, patience, agents
):
    lower = service_level_a(calls, handling, patience, agents, threshold)
    assert service_level_a(calls, handling, patience, agents + 1, threshold) >= lower - 1e-9


@settings(max_examples=40, deadline=None)
@given(
    CALLS, HANDLING, THRESHOLD, PATIENCE, st.integers(min_value=1, max_value=40), st.floats(1, 9)
)
def test_more_calls_never_raise_the_erlang_a_service_level(
    calls, handling, threshold, patience, agents, more
):
    level = service_level_a(calls, handling, patience, agents, threshold)
    assert service_level_a(calls + more, handling, patience, agents, threshold) <= level + 1e-9


@settings(max_examples=60, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, TARGET)
def test_erlang_c_agents_needed_meet_the_target_and_one_fewer_does_not(
    calls, handling, threshold, target
):
    needed = agents_needed_c(calls, handling, threshold, target)
    assert needed is not None and needed >= 1
    assert service_level_c(calls, handling, needed, threshold) >= target
    assert service_level_c(calls, handling, needed - 1, threshold) < target or needed == 1


@settings(max_examples=40, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, PATIENCE, TARGET)
def test_erlang_a_agents_needed_meet_the_target_and_one_fewer_does_not(
    calls, handling, threshold, patience, target
):
    needed = agents_needed_a(calls, handling, patience, threshold, target)
    assert needed is not None and needed >= 1
    assert service_level_a(calls, handling, patience, needed, threshold) >= target
    assert service_level_a(calls, handling, patience, needed - 1, threshold) < target


@settings(max_examples=40, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, PATIENCE, st.integers(min_value=1, max_value=40))
def test_erlang_a_of_the_answered_is_never_below_erlang_c(
    calls, handling, threshold, patience, agents
):
    assume(agents > calls * handling / 3600)  # Erlang C has no steady state otherwise
    c_level = service_level_c(calls, handling, agents, threshold)
    a = erlang_a(calls, handling, patience, agents, threshold)
    assert a.of_answered >= c_level - 1e-9


def uniformized(queued: list[float], busy_rate: float, patience: float, limit: float) -> float:
    """The chance of reaching an agent within ``limit``, by uniformization of the queue's
    chain (the reference for the closed form): from place ``j`` a caller moves up at
    ``busy_rate + (j - 1)·patience`` and gives up at ``patience``.
    """
    places = len(queued)
    rate = busy_rate + places * patience  # the fastest any place is left
    mean = rate * limit
    steps = int(mean + 12 * math.sqrt(mean) + 12)
    up = [(busy_rate + j * patience) / rate for j in range(places + 1)]  # place j+1 to j
    stay = [1 - u - patience / rate for u in up[:places]]
    where, reached, total = list(queued), 0.0, 0.0
    for jumps in range(steps + 1):
        total += math.exp(-mean + jumps * math.log(mean) - math.lgamma(jumps + 1)) * reached
        reached += where[0] * up[0]
        behind = [*where[1:], 0.0]
        where = [p * s + b * u for p, s, b, u in zip(where, stay, behind, up[1:], strict=True)]
    return total


@settings(max_examples=60, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, PATIENCE, st.integers(min_value=1, max_value=40))
def test_erlang_a_in_closed_form_equals_uniformization_of_the_chain(
    calls, handling, threshold, patience, agents
):
    arrival, service, impatience = calls / 3600, 1 / handling, 1 / patience
    queued = _stationary(arrival, service, impatience, agents)[agents:]
    closed = _served_within(queued, agents * service, impatience, threshold)
    assert closed == pytest.approx(
        uniformized(queued, agents * service, impatience, threshold), abs=1e-9
    )


@settings(max_examples=40, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, PATIENCE, TARGET, st.integers(min_value=0, max_value=80))
def test_erlang_a_agents_needed_do_not_depend_on_where_the_search_starts(
    calls, handling, threshold, patience, target, near
):
    alone = agents_needed_a(calls, handling, patience, threshold, target)
    assert agents_needed_a(calls, handling, patience, threshold, target, near) == alone


@settings(max_examples=40, deadline=None)
@given(CALLS, HANDLING, THRESHOLD, PATIENCE, st.integers(min_value=0, max_value=40))
def test_the_erlang_a_service_level_alone_is_erlang_a_s(
    calls, handling, threshold, patience, agents
):
    whole = erlang_a(calls, handling, patience, agents, threshold)
    assert service_level_a(calls, handling, patience, agents, threshold) == whole.service_level
