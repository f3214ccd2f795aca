"""Queueing formulas for staffing: Erlang C (M/M/c) and Erlang A (M/M/c+M, Palm's model).

Rates are given per hour of arrivals and in seconds of handling, patience and threshold,
as the staffing table measures them. The traffic is ``A = λ · h`` erlangs.

**Erlang C.** The probability that a caller waits is computed from Erlang B by the
recursion ``B(0) = 1, B(n) = A·B(n-1) / (n + A·B(n-1))``, which never overflows (no
``A**c / c!``), so thousands of erlangs are fine. ``C = c·B / (c - A·(1 - B))`` for
``c > A``; with ``c ≤ A`` the queue grows without bound and every caller waits. The service
level is ``P(W ≤ T) = 1 - C·exp(-(c·μ - λ)·T)``.

**Erlang A.** Callers leave the queue after an exponential patience (mean ``1/θ``); the
number in the system is a birth-death chain with birth rate ``λ`` and death rate
``min(n, c)·μ + max(n - c, 0)·θ``. Its stationary distribution is computed in logarithms
and truncated where the rest weighs less than ``e**-40``. A caller who arrives (PASTA) to
find ``n ≥ c`` in the system is at place ``k = n - c + 1`` in the queue; from place ``j``
he moves up at rate ``c·μ + (j - 1)·θ`` (a service ends, or someone ahead gives up) and
leaves at rate ``θ``. The chance that he reaches an agent within ``T`` has a closed form
(a regularized incomplete beta function, a finite sum for a whole number of places), so
a service level costs one pass over the places; the test suite checks it against
uniformization of that chain.

The **service level of Erlang A** is the share of *all* callers who are answered within
``T``: ``P(no wait) + P(wait, reach an agent within T before giving up)``; a caller who
gives up counts as not answered in time, however soon he gave up. Staffing aims at it,
so that letting callers give up can never look like good service (the share of *answered*
callers answered within ``T``, the report's own definition, rises as impatient callers
leave; :class:`ErlangA` gives it as ``of_answered`` for information). With patience
going to infinity nobody gives up, and both tend to the Erlang C service level.

No library: ``pyworkforce`` would give Erlang C and A but brings OR-Tools and pandas
(about 250 MB) for two formulas; docs/evaluation.md says more.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

SECONDS_PER_HOUR = 3600
MAX_AGENTS = 100_000  # a search that has not met the target by then gives up
MAX_QUEUE = 20_000  # Erlang A looks at most this many callers waiting
_FLOOR = math.exp(-40.0)  # states whose weight is below e**-40 of the largest are left out
_RESCALE = 1e250  # weights are divided down before they pass this
_TINY = 1e-290  # a first term below this is summed in logarithms


def erlang_b(traffic: float, agents: int) -> float:
    """Erlang B: the share of callers lost with ``agents`` lines and ``traffic`` erlangs."""
    blocked = 1.0
    for n in range(1, agents + 1):
        blocked = traffic * blocked / (n + traffic * blocked)
    return blocked


def erlang_c(traffic: float, agents: int) -> float:
    """Erlang C: the probability that a caller waits (1 when ``agents ≤ traffic``)."""
    return _c_from_b(traffic, agents, erlang_b(traffic, agents))


def _c_from_b(traffic: float, agents: int, blocked: float) -> float:
    """Erlang C from Erlang B of the same traffic and agents."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    return agents * blocked / (agents - traffic * (1 - blocked))


def service_level_c(
    arrivals_per_hour: float, handling_s: float, agents: int, threshold_s: float
) -> float:
    """Erlang C: the share of callers answered within ``threshold_s`` seconds."""
    traffic = arrivals_per_hour * handling_s / SECONDS_PER_HOUR
    return _level_c(traffic, handling_s, agents, threshold_s, erlang_c(traffic, agents))


def _level_c(
    traffic: float, handling_s: float, agents: int, threshold_s: float, wait: float
) -> float:
    """``1 - C·exp(-(c - A)·T/h)``; 0 when the queue is unstable."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - wait * math.exp(-(agents - traffic) * threshold_s / handling_s)


def agents_needed_c(
    arrivals_per_hour: float, handling_s: float, threshold_s: float, target: float
) -> int | None:
    """The fewest agents for an Erlang C service level of at least ``target``.

    0 without arrivals; None if :data:`MAX_AGENTS` do not reach it.
    """
    if arrivals_per_hour <= 0:
        return 0
    traffic = arrivals_per_hour * handling_s / SECONDS_PER_HOUR
    blocked = 1.0
    for agents in range(1, MAX_AGENTS + 1):
        blocked = traffic * blocked / (agents + traffic * blocked)
        wait = _c_from_b(traffic, agents, blocked)
        if _level_c(traffic, handling_s, agents, threshold_s, wait) >= target:
            return agents
    return None


@dataclass(frozen=True, slots=True)
class ErlangA:
    """What Erlang A says of one number of agents."""

    waiting: float  # share of callers who find every agent busy
    abandoning: float  # share of callers who give up before an answer
    service_level: float  # share of all callers answered within T
    of_answered: float  # share of the answered callers answered within T


def erlang_a(
    arrivals_per_hour: float,
    handling_s: float,
    patience_s: float,
    agents: int,
    threshold_s: float,
) -> ErlangA:
    """Erlang A (M/M/c+M) for ``agents`` agents and a mean patience of ``patience_s``."""
    arrival = arrivals_per_hour / SECONDS_PER_HOUR
    if arrival <= 0:
        return ErlangA(0.0, 0.0, 1.0, 1.0)
    if agents <= 0:
        return ErlangA(1.0, 1.0, 0.0, 0.0)
    service, patience = 1.0 / handling_s, 1.0 / patience_s
    queued = _stationary(arrival, service, patience, agents)[agents:]
    waiting = math.fsum(queued)
    abandoning = math.fsum(p * k * patience for k, p in enumerate(queued)) / arrival
    level = (1.0 - waiting) + _served_within(queued, agents * service, patience, threshold_s)
    answered = 1.0 - abandoning
    of_answered = min(1.0, level / answered) if answered > 0 else 0.0
    return ErlangA(waiting, abandoning, min(1.0, level), of_answered)


def service_level_a(
    arrivals_per_hour: float,
    handling_s: float,
    patience_s: float,
    agents: int,
    threshold_s: float,
) -> float:
    """Erlang A: the share of all callers answered within ``threshold_s`` seconds.

    The same figure as :func:`erlang_a`'s, without the shares it does not need.
    """
    arrival = arrivals_per_hour / SECONDS_PER_HOUR
    if arrival <= 0 or agents <= 0:
        return 1.0 if arrival <= 0 else 0.0
    service, patience = 1.0 / handling_s, 1.0 / patience_s
    queued = _stationary(arrival, service, patience, agents)[agents:]
    served = _served_within(queued, agents * service, patience, threshold_s)
    return min(1.0, (1.0 - math.fsum(queued)) + served)


def agents_needed_a(
    arrivals_per_hour: float,
    handling_s: float,
    patience_s: float,
    threshold_s: float,
    target: float,
    near: int | None = None,
) -> int | None:
    """The fewest agents for an Erlang A service level of at least ``target``.

    ``c`` agents answer at most ``c/A`` of the callers, so fewer than ``target·A`` cannot
    do. ``near`` (Erlang C's answer, usually a few agents above) is tried first: if it
    meets the target the answer lies between; otherwise the search doubles its step from
    there until the target is met. Then it bisects (the level rises with the agents).
    None if :data:`MAX_AGENTS` do not reach it.
    """
    if arrivals_per_hour <= 0:
        return 0
    traffic = arrivals_per_hour * handling_s / SECONDS_PER_HOUR

    def meets(agents: int) -> bool:
        level = service_level_a(arrivals_per_hour, handling_s, patience_s, agents, threshold_s)
        return level >= target

    low = max(0, math.ceil(target * traffic) - 1)  # ``low`` agents fall short
    if near is not None and near > low and meets(near):
        return _bisect(meets, low, near)
    low, step = max(low, near or 0), 1
    while not meets(low + step):
        low, step = low + step, step * 2
        if low + step > MAX_AGENTS:
            return None
    return _bisect(meets, low, low + step)


def _bisect(meets: Callable[[int], bool], low: int, high: int) -> int:
    """The fewest agents in ``(low, high]`` that meet the target (``high`` does)."""
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if meets(middle) else (middle, high)
    return high


def _stationary(arrival: float, service: float, patience: float, agents: int) -> list[float]:
    """The stationary distribution of the number in the system, truncated, summing to 1.

    Weights are products of the birth-death ratios, rescaled before they could overflow.
    """
    weights, weight, top = [1.0], 1.0, 1.0
    for n in range(1, agents + 1):  # nobody waits: n agents busy
        weight *= arrival / (n * service)
        weights.append(weight)
        top = max(top, weight)
        if weight > _RESCALE:
            weights, weight, top = _rescaled(weights, weight), 1.0, top / weight
    busy, n = agents * service, agents
    while n < agents + MAX_QUEUE:  # n - agents callers wait, each may give up
        n += 1
        ratio = arrival / (busy + (n - agents) * patience)
        weight *= ratio
        weights.append(weight)
        if weight > top:
            top = weight
            if weight > _RESCALE:
                weights, weight, top = _rescaled(weights, weight), 1.0, 1.0
        elif ratio < 1 and weight < top * _FLOOR:
            break
    total = math.fsum(weights)
    return [w / total for w in weights]


def _rescaled(weights: list[float], by: float) -> list[float]:
    """``weights`` divided by ``by`` (the small ones may vanish: they weigh nothing)."""
    return [w / by for w in weights]


def _served_within(queued: list[float], busy_rate: float, patience: float, limit: float) -> float:
    """``Σ P(arrive with j waiting ahead) · P(reach an agent within limit | j ahead)``.

    ``queued[j]`` is the chance of arriving with ``j`` callers ahead. The time to reach an
    agent is a sum of exponentials with rates ``c·μ + k·θ`` (k = j..0), whose density is
    ``K·e^{-cμv}·(1 - e^{-θv})^j``; weighed by the chance ``e^{-θv}`` of still waiting, it
    integrates to ``x/(x+j+1) · (1 - I_z(x+1, j+1))`` with ``x = cμ/θ``, ``z = e^{-θT}``
    and ``I`` the regularized incomplete beta, a negative binomial sum for whole ``j+1``.
    """
    if limit <= 0:
        return 0.0
    x, log_z = busy_rate / patience, -patience * limit
    step = -math.expm1(log_z)  # 1 - z
    term = math.exp((x + 1) * log_z)  # the negative binomial's first term
    if term < _TINY:  # it would underflow: the same sum in logarithms
        return _served_within_logs(queued, x, log_z, math.log(step))
    below, total = term, 0.0  # I_z(x+1, j+1), built up term by term
    for j, arriving in enumerate(queued):
        if j:
            term *= (x + j) / j * step
            below += term
        if below < 1.0:
            total += arriving * x / (x + j + 1) * (1.0 - below)
    return total


def _served_within_logs(queued: list[float], x: float, log_z: float, log_step: float) -> float:
    """:func:`_served_within` with the terms in logarithms, for a first term below 1e-290."""
    log_term = (x + 1) * log_z
    below, total = math.exp(log_term), 0.0
    for j, arriving in enumerate(queued):
        if j:
            log_term += math.log((x + j) / j) + log_step
            below += math.exp(log_term)
        total += arriving * x / (x + j + 1) * max(0.0, 1.0 - below)
    return total
