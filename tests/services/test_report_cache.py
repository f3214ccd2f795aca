"""The cache of heavy reports: bounded, timed, and keyed by scope and registry."""

from __future__ import annotations

from datetime import date
from typing import Any, cast

from phoneservice.domain.reports.report import Report, ReportRequest
from phoneservice.services.report_cache import ReportCache, ReportKey

REQUEST = ReportRequest(date(2026, 1, 1), date(2026, 3, 31), None, "day")
REGISTRY = object()


def report(name: str) -> Report:
    """A stand-in report (the cache never looks inside)."""
    return cast(Report, name)


def key(scope: frozenset[str] | None = None, request: ReportRequest = REQUEST) -> ReportKey:
    return ReportKey(request, scope, id(REGISTRY))


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_kept_report_is_given_back_until_the_ttl() -> None:
    clock = Clock()
    cache = ReportCache(ttl=60, monotonic=clock)
    cache.put(key(), REGISTRY, report("a"))
    clock.now = 59.9
    assert cache.get(key(), REGISTRY) == "a"
    clock.now = 60.0
    assert cache.get(key(), REGISTRY) is None
    assert (cache.hits, cache.misses) == (1, 1)


def test_another_scope_or_registry_is_another_report() -> None:
    cache = ReportCache()
    cache.put(key(frozenset({"jobcenter"})), REGISTRY, report("jobcenter"))
    assert cache.get(key(None), REGISTRY) is None
    assert cache.get(key(frozenset({"borgerservice"})), REGISTRY) is None
    assert cache.get(key(frozenset({"jobcenter"})), object()) is None  # a reloaded registry


def test_the_cache_holds_at_most_its_entries() -> None:
    cache = ReportCache(entries=2)
    requests = [ReportRequest(date(2026, 1, day), date(2026, 3, 31)) for day in (1, 2, 3)]
    for n, request in enumerate(requests):
        cache.put(key(request=request), REGISTRY, report(str(n)))
    found: list[Any] = [cache.get(key(request=r), REGISTRY) for r in requests]
    assert found == [None, "1", "2"]
