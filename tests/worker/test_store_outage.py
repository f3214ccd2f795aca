"""A database that cannot store calls for a while: the follower holds them, retries with a
capped backoff, says one line when the outage starts and one when it ends, and stores
every call when the database is back (the process-level fault tests are in
test_database_outage.py)."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY
from sqlalchemy.exc import OperationalError

from phoneservice.bootstrap import build_call_log, queue_log_file
from phoneservice.pbx.client import AmiTarget, Received
from phoneservice.pbx.protocol import Message, parse, parse_banner
from phoneservice.registry import parse_registry
from phoneservice.services.callbacks import CallbackService
from phoneservice.services.calls import CallService
from phoneservice.storage.engine import create_engine_for, session_factory
from phoneservice.worker import follower as follower_module
from phoneservice.worker.follower import PbxFollower
from tests.conftest import LAB_REGISTRY, TODAY
from tests.domain.test_call_tracker import TRACES, truth

pytestmark = pytest.mark.slow  # real retry backoff: seconds of waiting per test

SCENARIO = "e-burst"


class QueueClient:
    """Stands in for the AMI client: hands the follower what the test puts in its queue."""

    def __init__(self) -> None:
        self.target = AmiTarget("lab", "127.0.0.1", 5038, "phoneservice", "s3cret")
        self.items: asyncio.Queue[Received] = asyncio.Queue()
        self.connected, self.reconnects = True, 0

    async def get(self) -> Received:
        return await self.items.get()


class FlakyStore:
    """The real store, failing as a database that went away does while ``away`` is set."""

    def __init__(self, store) -> None:
        self.store, self.away = store, False
        self.attempts = self.failed = 0

    def __call__(self, records, seen):
        self.attempts += 1
        if self.away:
            self.failed += 1
            raise OperationalError("INSERT", {}, ConnectionRefusedError("connection refused"))
        return self.store(records, seen)


def messages() -> list[Message]:
    _banner, rest = parse_banner((TRACES / f"{SCENARIO}.ami").read_bytes())
    parsed, _tail = parse(rest)
    return list(parsed)


def make_follower(database_url: str, queue_log: bool = False):
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    sessions = session_factory(create_engine_for(database_url))
    service = CallService(sessions, CallbackService(sessions, registry, lambda: datetime.now(UTC)))
    store = FlakyStore(service.store_for("lab"))
    reader = queue_log_file([TRACES / f"{SCENARIO}.queue_log"]) if queue_log else None
    call_log = build_call_log(registry, "lab", store, queue_log=reader)
    client = QueueClient()
    return PbxFollower(client, call_log), client, store, service  # type: ignore[arg-type]


async def feed(client: QueueClient, batch: list[Message], pause: float = 0.0) -> None:
    for message in batch:
        client.items.put_nowait(Received("lab", 1, message, datetime.now(UTC)))
        if pause:
            await asyncio.sleep(pause)


async def wait_for(condition, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition() and asyncio.get_running_loop().time() < deadline:
        await asyncio.sleep(0.02)


def stored(service: CallService) -> set[str]:
    return {call.uniqueid for call in service.calls(limit=None)}


def metric(name: str) -> float | None:
    return REGISTRY.get_sample_value(name, {"pbx": "lab"})


def test_an_outage_is_ridden_out_with_backoff_and_two_log_lines(database_url, caplog):
    follower, client, store, service = make_follower(database_url)
    expected = {call["uniqueid"] for call in truth(SCENARIO)["calls"]}
    everything = messages()
    third = len(everything) // 3
    failures_before = metric("phoneservice_store_failures_total") or 0.0

    async def scenario() -> tuple[int, float | None]:
        stop = asyncio.Event()
        running = asyncio.create_task(follower.run(stop))
        await feed(client, everything[:third])
        await wait_for(lambda: store.attempts > 0 and not follower.call_log.pending)
        store.away = True
        # the rest streams in over about two seconds while nothing can be stored
        await feed(client, everything[third:], pause=2.0 / len(everything))
        await wait_for(lambda: client.items.empty())
        await asyncio.sleep(0.5)
        held = len(follower.call_log.pending)
        gauge = metric("phoneservice_store_pending_calls")
        store.away = False
        await wait_for(lambda: expected <= stored(service))
        stop.set()
        await running
        return held, gauge

    with caplog.at_level(logging.INFO):
        held, gauge = asyncio.run(scenario())
    assert held > 0  # calls finished during the outage were held, not lost
    assert gauge == held
    assert expected <= stored(service)  # zero calls lost
    # backoff: a handful of attempts in a few seconds, not one per event
    assert 1 <= store.failed <= 10, store.failed
    messages_logged = [r.getMessage() for r in caplog.records]
    assert sum("the database is not available" in m for m in messages_logged) == 1
    assert sum("the database is available again" in m for m in messages_logged) == 1
    assert not [r for r in caplog.records if r.exc_info]  # no tracebacks
    assert metric("phoneservice_store_pending_calls") == 0
    assert metric("phoneservice_store_failures_total") == failures_before + store.failed


def test_calls_beyond_the_bound_are_dropped_loudly_and_recovered_from_queue_log(
    database_url, caplog, monkeypatch
):
    monkeypatch.setattr(follower_module, "MAX_PENDING", 5)
    follower, client, store, service = make_follower(database_url, queue_log=True)
    expected = {call["uniqueid"] for call in truth(SCENARIO)["calls"]}

    async def scenario() -> int:
        stop = asyncio.Event()
        running = asyncio.create_task(follower.run(stop))
        store.away = True
        await feed(client, messages())
        await wait_for(lambda: client.items.empty())
        await asyncio.sleep(0.3)
        held = len(follower.call_log.pending)
        store.away = False
        await wait_for(lambda: expected <= stored(service))
        stop.set()
        await running
        return held

    with caplog.at_level(logging.INFO):
        held = asyncio.run(scenario())
    assert held <= 5
    assert expected <= stored(service)  # the dropped ones came back from queue_log
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert sum("the oldest are dropped" in m for m in errors) == 1


def test_run_shows_the_workers_held_calls_in_metrics_while_the_database_is_away(tmp_path):
    """``phoneservice run`` hosts the worker beside the web: /metrics shows its counts,
    also when the database does not answer the scrape."""
    from prometheus_client.parser import text_string_to_metric_families

    from phoneservice.settings import Settings
    from phoneservice.web import create_app
    from phoneservice.worker.outage import StoreOutage

    outage = StoreOutage("metrics-pbx")
    outage.pending(7)
    outage.failed(OSError("disk full"), 7)
    url = f"sqlite:///{tmp_path / 'missing' / 'db.sqlite3'}"
    registry = parse_registry(LAB_REGISTRY, "lab.toml", TODAY)
    app = create_app(Settings(database_url=url), registry=registry)
    text = app.test_client().get("/metrics").get_data(as_text=True)
    samples = {
        (s.name, s.labels.get("pbx")): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }
    assert samples[("phoneservice_database_up", None)] == 0
    assert samples[("phoneservice_store_pending_calls", "metrics-pbx")] == 7
    assert samples[("phoneservice_store_failures_total", "metrics-pbx")] == 1
