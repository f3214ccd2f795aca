"""``/metrics`` and the AMI part of ``/readyz``, on SQLite and PostgreSQL.

Calls and callbacks are stored through the real services, the AMI state by the real
worker follower and client against the simulator; the app is built by its factory and
its answer parsed by prometheus_client's own parser.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from flask import Flask
from prometheus_client.parser import text_string_to_metric_families

from phoneservice.bootstrap import build_call_log
from phoneservice.demo.simulator import AmiSimulator
from phoneservice.domain.pbx_state import PbxState
from phoneservice.pbx.client import AmiClient, AmiTarget
from phoneservice.registry import Registry, parse_registry
from phoneservice.services.callbacks import CallbackService
from phoneservice.services.calls import CallService
from phoneservice.services.monitoring import Cached, MonitoringService, PbxStateService
from phoneservice.settings import Settings
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.web import create_app
from phoneservice.worker.amistate import AmiStateReporter
from phoneservice.worker.follower import PbxFollower, follow_all
from tests.conftest import LAB_REGISTRY, TODAY
from tests.domain.test_call_tracker import TRACES, truth
from tests.storage.test_storage import T0, call

NOW = T0 + timedelta(days=3)  # every task opened at T0 is past its deadline by then
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture(autouse=True)
def readyz_details(monkeypatch: pytest.MonkeyPatch) -> None:
    """``/readyz`` shows its details here as to a monitoring token (tests/web/test_web_api.py)."""
    from phoneservice.web.ops import health

    monkeypatch.setattr(health, "details_allowed", lambda: True)


@pytest.fixture(scope="module")
def lab() -> Registry:
    return parse_registry(LAB_REGISTRY, "lab.toml", TODAY)


def app_on(url: str, registry: Registry, now: datetime | None = None) -> Flask:
    """The app on ``url``; the count of calls is not kept between scrapes in these tests."""
    clock = None if now is None else (lambda: now)
    app = create_app(Settings(database_url=url), registry=registry, clock=clock)
    app.config["METRICS_CACHE_SECONDS"] = 0
    return app


def scrape(app: Flask) -> tuple[str, Samples]:
    """The body of /metrics and its samples by (name, labels)."""
    response = app.test_client().get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    samples = {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    return text, samples


def value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def store_calls(url: str, lab: Registry) -> None:
    """Six calls: answered, missed ones that open callbacks, one without a unit."""
    sessions = session_factory(create_engine_for(url))
    service = CallService(sessions, CallbackService(sessions, lab, lambda: T0))
    missed = {"outcome": "abandoned", "agent": None, "talk_s": None, "segments": ()}
    unanswered = {**missed, "outcome": "unanswered"}
    records = [
        call("1.1"),
        call("1.2", caller_number="+4511111111"),
        call("1.3", caller_number="+4522222222", **missed),
        call("1.4", caller_number="+4533333333", unit="jobcenter", hours_disagree=True, **missed),
        call("1.5", caller_number="+4544444444", unit="jobcenter", **missed),
        call("1.6", caller_number=None, unit=None, queue=None, **unanswered),
    ]
    assert service.store(records) == 6


def test_metrics_count_calls_callbacks_and_disagreements(database_url, lab):
    store_calls(database_url, lab)
    text, samples = scrape(app_on(database_url, lab, NOW))
    assert value(samples, "phoneservice_database_up") == 1
    calls = {
        (dict(labels)["unit"], dict(labels)["outcome"]): n
        for (name, labels), n in samples.items()
        if name == "phoneservice_calls_total"
    }
    assert calls == {
        ("borgerservice", "answered"): 2,
        ("borgerservice", "abandoned"): 1,
        ("jobcenter", "abandoned"): 2,
        ("", "unanswered"): 1,
    }
    assert value(samples, "phoneservice_hours_disagreements_total", unit="jobcenter") == 1
    assert value(samples, "phoneservice_hours_disagreements_total", unit="borgerservice") == 0
    assert value(samples, "phoneservice_hours_disagreements_total", unit="boern-laering") == 0
    for unit, tasks in (("borgerservice", 1), ("jobcenter", 2), ("boern-laering", 0)):
        assert value(samples, "phoneservice_callbacks_open", unit=unit) == tasks
        assert value(samples, "phoneservice_callbacks_overdue", unit=unit) == tasks
    assert "+45" not in text and "Jens" not in text  # no personal data


def test_callbacks_are_overdue_only_after_their_deadline(database_url, lab):
    store_calls(database_url, lab)
    _, samples = scrape(app_on(database_url, lab, T0 + timedelta(minutes=5)))
    assert value(samples, "phoneservice_callbacks_open", unit="jobcenter") == 2
    assert value(samples, "phoneservice_callbacks_overdue", unit="jobcenter") == 0


def test_a_database_that_does_not_answer_is_a_metric_not_an_error(lab, tmp_path):
    url = f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}"
    text, samples = scrape(app_on(url, lab))
    assert value(samples, "phoneservice_database_up") == 0
    assert value(samples, "phoneservice_registry_loaded") == 1
    assert "phoneservice_calls_total" not in text


def test_without_a_database_only_the_registry_is_shown(lab):
    app = create_app(Settings(), registry=lab)
    _, samples = scrape(app)
    assert value(samples, "phoneservice_registry_loaded") == 1
    assert value(samples, "phoneservice_registry_reload_errors") == 0
    assert value(samples, "phoneservice_registry_units") == len(lab.units)
    assert not any(name.startswith("phoneservice_ami") for name, _ in samples)


def test_pbx_state_rows_become_ami_metrics_and_readyz(database_url, lab):
    states = PbxStateService(session_factory(create_engine_for(database_url)))
    seen = NOW - timedelta(seconds=12)
    states.save(PbxState("pbx-a", True, 3, seen, NOW - timedelta(seconds=2), "host:1"))
    states.save(PbxState("pbx-b", True, 0, None, NOW - timedelta(minutes=5), "gone:2"))
    app = app_on(database_url, lab, NOW)
    _, samples = scrape(app)
    assert value(samples, "phoneservice_ami_connected", pbx="pbx-a") == 1
    assert value(samples, "phoneservice_ami_connected", pbx="pbx-b") == 0  # stale: 0
    assert value(samples, "phoneservice_ami_reconnects_total", pbx="pbx-a") == 3
    assert value(samples, "phoneservice_ami_last_event_age_seconds", pbx="pbx-a") == 12
    assert value(samples, "phoneservice_ami_last_event_age_seconds", pbx="pbx-b") is None
    assert value(samples, "phoneservice_ami_state_age_seconds", pbx="pbx-b") == 300
    body = app.test_client().get("/readyz").get_json()
    assert body["ready"] is True and body["degraded"] is True
    assert [(p["pbx"], p["connected"], p["stale"]) for p in body["ami"]["pbx"]] == [
        ("pbx-a", True, False),
        ("pbx-b", False, True),
    ]
    assert body["ami"]["pbx"][0]["last_event_age_s"] == 12


def test_the_ami_queue_depth_and_dropped_messages_are_metrics(database_url, lab):
    states = PbxStateService(session_factory(create_engine_for(database_url)))
    states.save(PbxState("pbx-a", True, 0, NOW, NOW, "host:1", queue_depth=17, dropped=2))
    states.save(PbxState("pbx-b", False, 0, None, NOW, "host:1"))
    _, samples = scrape(app_on(database_url, lab, NOW))
    assert value(samples, "phoneservice_ami_queue_depth", pbx="pbx-a") == 17
    assert value(samples, "phoneservice_ami_dropped_total", pbx="pbx-a") == 2
    assert value(samples, "phoneservice_ami_queue_depth", pbx="pbx-b") == 0
    assert value(samples, "phoneservice_ami_dropped_total", pbx="pbx-b") == 0


def test_the_reporter_writes_the_clients_queue_depth_and_dropped_messages():
    saved: list[PbxState] = []

    async def scenario() -> None:
        reporter = AmiStateReporter("lab", saved.append, "host:1", clock=lambda: NOW)
        reporter.counts(queue_depth=5, dropped=1)
        reporter.connected(0)
        await reporter.written()

    asyncio.run(scenario())
    assert (saved[-1].queue_depth, saved[-1].dropped) == (5, 1)


def test_the_follower_hands_the_clients_counts_to_the_reporter():
    """Dropped = queue overflows plus messages refused for their size."""
    saved: list[PbxState] = []
    client = SimpleNamespace(
        target=SimpleNamespace(name="lab"), queue_depth=3, dropped=1, oversized=2, reconnects=0
    )

    async def scenario() -> None:
        reporter = AmiStateReporter("lab", saved.append, "host:1", clock=lambda: NOW)
        follower = PbxFollower(client, call_log=None, state=reporter)  # type: ignore[arg-type]
        follower._report(None)
        reporter.started()
        await reporter.written()

    asyncio.run(scenario())
    assert (saved[-1].queue_depth, saved[-1].dropped) == (3, 3)


def test_a_later_write_keeps_the_last_event_when_it_has_none(database_url):
    sessions = session_factory(create_engine_for(database_url))
    states = PbxStateService(sessions)
    states.save(PbxState("pbx-a", True, 0, T0, T0, "host:1"))
    states.save(PbxState("pbx-a", False, 1, None, NOW, "host:2"))
    assert MonitoringService(sessions).pbx_states() == [
        PbxState("pbx-a", False, 1, T0, NOW, "host:2")
    ]


def test_readyz_survives_a_database_without_the_pbx_state_table(lab, tmp_path):
    url = f"sqlite:///{tmp_path / 'unmigrated.sqlite3'}"
    body = app_on(url, lab).test_client().get("/readyz").get_json()
    assert body["ready"] is True
    assert body["ami"]["ok"] is False and body["ami"]["pbx"] == []


# --- the count of calls is kept per process ------------------------------------------------


def test_a_cached_value_is_reused_until_it_is_old():
    clock, runs = [0.0], []
    cached = Cached(lambda: runs.append(1) or len(runs), 15.0, lambda: clock[0])
    assert (cached.get(), cached.get()) == (1, 1)
    clock[0] = 14.9
    assert cached.get() == 1
    clock[0] = 15.0
    assert cached.get() == 2


def test_a_failed_computation_is_not_kept():
    outcomes: list[Any] = [RuntimeError("down"), 7]

    def compute() -> int:
        found = outcomes.pop(0)
        if isinstance(found, Exception):
            raise found
        return int(found)

    cached = Cached(compute, 15.0)
    with pytest.raises(RuntimeError):
        cached.get()
    assert cached.get() == 7


def test_scrapes_within_the_cache_time_reuse_the_count(database_url, lab):
    app = create_app(Settings(database_url=database_url), registry=lab, clock=lambda: NOW)
    app.config["METRICS_CACHE_SECONDS"] = 3600  # far longer than the test
    scrape(app)  # counts the calls (none yet) and keeps the count
    store_calls(database_url, lab)
    _, after = scrape(app)
    assert not any(name == "phoneservice_calls_total" for name, _ in after)
    assert value(after, "phoneservice_callbacks_open", unit="jobcenter") == 2  # not cached


# --- the worker writes the state ----------------------------------------------------------


def test_the_worker_writes_its_connection_state(database_url, lab):
    sessions = session_factory(create_engine_for(database_url))
    service = CallService(sessions, CallbackService(sessions, lab, lambda: datetime.now(UTC)))
    expected = len(truth("e-burst")["calls"])
    app = app_on(database_url, lab)
    seen: dict[str, Any] = {}
    with AmiSimulator([TRACES / "e-burst.ami"], username="phoneservice", secret="s3cret") as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s3cret")
        client = AmiClient(target, ping_interval=1.0, pong_timeout=2.0)
        reporter = AmiStateReporter("lab", PbxStateService(sessions).save, every=0.1)
        call_log = build_call_log(lab, "lab", service.store_for("lab"))
        follower = PbxFollower(client, call_log, state=reporter)

        async def scenario() -> None:
            stop = asyncio.Event()
            job = asyncio.create_task(follow_all([follower], stop))
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                body = await asyncio.to_thread(lambda: app.test_client().get("/readyz").json)
                pbx = body["ami"]["pbx"]
                stored = await asyncio.to_thread(lambda: len(service.calls(limit=None)))
                if stored >= expected and pbx and pbx[0]["last_event_at"]:
                    seen["during"] = pbx[0]
                    seen["metrics"] = await asyncio.to_thread(scrape, app)
                    break
                await asyncio.sleep(0.05)
            stop.set()
            await job

        asyncio.run(scenario())
    during = seen["during"]
    assert (during["pbx"], during["connected"], during["reconnects"]) == ("lab", True, 0)
    assert during["worker"] == reporter.worker
    samples = seen["metrics"][1]
    assert value(samples, "phoneservice_ami_connected", pbx="lab") == 1
    assert value(samples, "phoneservice_ami_last_event_age_seconds", pbx="lab") >= 0
    after = MonitoringService(sessions).pbx_states()
    assert [(s.pbx, s.connected) for s in after] == [("lab", False)]  # a clean stop says so
    assert after[0].last_event_at is not None
    # written on start, connect and stop, and a few times in between: never per event
    assert 3 <= reporter.writes < len(sim.replays[0].stream) / 10
    assert reporter.failures == 0 and follower.failures == 0


def test_events_between_writes_are_folded_into_one_write():
    saved: list[PbxState] = []
    clock = [0.0]
    reporter = AmiStateReporter("pbx", saved.append, "h:1", every=5.0, monotonic=lambda: clock[0])
    first = datetime(2026, 1, 1, tzinfo=UTC)

    async def scenario() -> None:
        reporter.started()
        await reporter.written()
        reporter.connected(0)
        await reporter.written()
        for n in range(100):  # a second of events, each followed by the follower's tick
            clock[0] = n * 0.01
            reporter.event(first + timedelta(seconds=n))
            reporter.tick()
            await reporter.written()
        clock[0] = 5.5
        reporter.tick()
        await reporter.written()
        await reporter.close()

    asyncio.run(scenario())
    assert [(s.connected, s.last_event_at) for s in saved] == [
        (False, None),  # started: replaces the row of a worker that is gone
        (True, None),  # connected
        (True, first + timedelta(seconds=99)),  # one throttled write for 100 events
        (False, first + timedelta(seconds=99)),  # a clean stop
    ]
    assert {s.worker for s in saved} == {"h:1"}
