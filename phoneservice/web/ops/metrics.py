"""``GET /metrics``: Prometheus text, built at each request from the database and registry.

The web runs as several stateless processes, so no process counts anything in memory:
each scrape reads the database (the count of all calls is kept 15 s per process, see
:mod:`phoneservice.services.monitoring`) through a collector made for that request, in a
registry of its own. Labels are unit ids, outcomes and PBX names: no personal data.
Calls without a unit have ``unit=""`` (Prometheus: the same as no unit label).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from flask import Blueprint, Response, current_app
from prometheus_client import REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.registry import Collector

from phoneservice.domain.pbx_state import PbxState
from phoneservice.registry.holder import ReloadState
from phoneservice.services.monitoring import CallbackCount, CallCount, is_stale
from phoneservice.settings import Settings
from phoneservice.web import EXTENSION, SETTINGS
from phoneservice.web.ops.health import monitoring

blueprint = Blueprint("metrics", __name__)
WORKER_PREFIX = "phoneservice_store_"  # the worker's in-memory metrics (process registry)


@dataclass
class Facts:
    """What one scrape read; ``database`` is None without a database, False if it failed."""

    now: datetime
    registry: ReloadState
    units: tuple[str, ...]
    database: bool | None = None
    calls: list[CallCount] = field(default_factory=list)
    callbacks: list[CallbackCount] = field(default_factory=list)
    pbx: list[PbxState] = field(default_factory=list)


@blueprint.get("/metrics")
def metrics() -> Response:
    """Every metric, in the Prometheus text format 0.0.4."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(PhoneserviceCollector(gather()))
    headers = {"Content-Type": CONTENT_TYPE_PLAIN_0_0_4, "Cache-Control": "no-store"}
    return Response(generate_latest(registry), 200, headers)


def gather() -> Facts:
    """Read the registry holder, then the database when one is configured."""
    hours = current_app.extensions[EXTENSION]
    facts = Facts(hours.clock(), hours.holder.state(), tuple(hours.registry.units))
    settings: Settings = current_app.extensions[SETTINGS]
    if not settings.database_url:
        return facts
    try:
        service = monitoring()
        facts.calls = service.call_counts()
        facts.callbacks = service.callback_counts(facts.now)
        facts.pbx = service.pbx_states()
    except Exception as exc:  # the scrape still answers, with phoneservice_database_up 0
        current_app.logger.warning("metrics: the database did not answer: %s", type(exc).__name__)
        facts.database = False
        return facts
    facts.database = True
    return facts


class PhoneserviceCollector(Collector):
    """The metric families of one scrape's facts."""

    def __init__(self, facts: Facts) -> None:
        self.facts = facts

    def collect(self) -> Iterator[Metric]:
        """Registry metrics always; database ones when the database answered."""
        facts = self.facts
        yield from registry_metrics(facts.registry)
        if facts.database is None:
            return
        yield GaugeMetricFamily(
            "phoneservice_database_up",
            "1 if the database answered this scrape's queries, else 0",
            value=1 if facts.database else 0,
        )
        yield from worker_metrics()  # when ``run`` hosts the worker: even if the database is away
        if facts.database:
            yield from call_metrics(facts.calls, facts.units)
            yield from callback_metrics(facts.callbacks, facts.units)
            yield from ami_metrics(facts.pbx, facts.now)


def worker_metrics() -> Iterator[Metric]:
    """The worker's own counts in this process (``phoneservice run``): finished calls held
    in memory and failed stores. They are in memory only: a web without a worker has none."""
    for family in REGISTRY.collect():
        if family.name.startswith(WORKER_PREFIX):
            yield family


def registry_metrics(state: ReloadState) -> Iterator[Metric]:
    """Whether the registry file loaded, and since when the one in use serves."""
    yield GaugeMetricFamily(
        "phoneservice_registry_loaded",
        "1 if the registry file's last load succeeded; 0 if it failed and the one "
        "loaded before is still in use",
        value=1 if state.ok else 0,
    )
    yield GaugeMetricFamily(
        "phoneservice_registry_reload_errors",
        "errors in the registry file at its last failed load (0 when it loaded)",
        value=len(state.errors),
    )
    yield GaugeMetricFamily(
        "phoneservice_registry_loaded_timestamp_seconds",
        "when the registry in use was loaded (Unix time)",
        value=state.loaded_at.timestamp(),
    )
    yield GaugeMetricFamily(
        "phoneservice_registry_units", "units in the registry in use", value=state.units
    )


def call_metrics(counts: list[CallCount], units: Iterable[str]) -> Iterator[Metric]:
    """Calls by unit and outcome, and the PBX/registry disagreements by unit."""
    calls = CounterMetricFamily(
        "phoneservice_calls_total",
        'calls logged, by unit and outcome (unit="" for calls that reached no unit)',
        labels=["unit", "outcome"],
    )
    disagreements = dict.fromkeys(units, 0)
    for count in counts:
        calls.add_metric([count.unit or "", count.outcome], count.calls)
        unit = count.unit or ""
        disagreements[unit] = disagreements.get(unit, 0) + count.disagreements
    yield calls
    family = CounterMetricFamily(
        "phoneservice_hours_disagreements_total",
        "calls on which the PBX's own phone-hours decision and the registry disagreed",
        labels=["unit"],
    )
    for unit, value in disagreements.items():
        family.add_metric([unit], value)
    yield family


def callback_metrics(counts: list[CallbackCount], units: Iterable[str]) -> Iterator[Metric]:
    """Open and overdue callback tasks by unit (0 for every unit without any)."""
    found = {count.unit: count for count in counts}
    families = (
        ("phoneservice_callbacks_open", "open callback tasks", "open"),
        ("phoneservice_callbacks_overdue", "open callback tasks past their deadline", "overdue"),
    )
    for name, documentation, attribute in families:
        family = GaugeMetricFamily(name, documentation, labels=["unit"])
        for unit in dict.fromkeys([*units, *found]):
            count = found.get(unit)
            family.add_metric([unit], getattr(count, attribute) if count else 0)
        yield family


def ami_metrics(states: list[PbxState], now: datetime) -> Iterator[Metric]:
    """Each PBX's AMI connection as the active worker last wrote it."""
    connected = GaugeMetricFamily(
        "phoneservice_ami_connected",
        "1 if the active worker is logged in to the PBX (a row not refreshed for 90 s: 0)",
        labels=["pbx"],
    )
    reconnects = CounterMetricFamily(
        "phoneservice_ami_reconnects_total",
        "logins to the PBX after the first one, since the active worker started",
        labels=["pbx"],
    )
    event_age = GaugeMetricFamily(
        "phoneservice_ami_last_event_age_seconds",
        "seconds since the last AMI message from the PBX was read",
        labels=["pbx"],
    )
    state_age = GaugeMetricFamily(
        "phoneservice_ami_state_age_seconds",
        "seconds since the worker last wrote the PBX's state (it does every 30 s at least)",
        labels=["pbx"],
    )
    queue_depth = GaugeMetricFamily(
        "phoneservice_ami_queue_depth",
        "AMI messages the worker has received from the PBX but not handled yet",
        labels=["pbx"],
    )
    dropped = CounterMetricFamily(
        "phoneservice_ami_dropped_total",
        "AMI messages dropped (over the size limit, or the queue full), each followed by a "
        "reconnect and a resync, since the active worker started",
        labels=["pbx"],
    )
    for state in states:
        connected.add_metric([state.pbx], 1 if state.connected and not is_stale(state, now) else 0)
        reconnects.add_metric([state.pbx], state.reconnects)
        state_age.add_metric([state.pbx], (now - state.updated_at).total_seconds())
        queue_depth.add_metric([state.pbx], state.queue_depth)
        dropped.add_metric([state.pbx], state.dropped)
        if state.last_event_at is not None:
            event_age.add_metric([state.pbx], (now - state.last_event_at).total_seconds())
    yield from (connected, reconnects, event_age, state_age, queue_depth, dropped)
