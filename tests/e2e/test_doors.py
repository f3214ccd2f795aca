"""One answer per question: every door says the same of a unit closed by a manual override
(closed, 60 min) and of a unit on a closed calendar day.

The doors are the command line (``status``, ``hours``, ``deadline``), the public API
(``/api/v1/status``, ``open.txt``), the board row and the unit page, placing a callback
call, ``ingest`` of a recorded call re-timed into the closed time, the queue_log rebuild of
the same call, and the worker's unit-state trigger. Each builds its answer through its own
entry point (the CLI's ``main``, the app from its factory, the worker's job specs), on
SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from phoneservice.bootstrap import Services, build
from phoneservice.cli import main
from phoneservice.demo.retime import retime, retime_to
from phoneservice.services.callbacks import UnitClosed
from phoneservice.services.overrides import Until
from phoneservice.settings import Settings
from phoneservice.web import create_app
from phoneservice.worker.jobs.scheduler import UNIT_STATE, job_specs
from tests.conftest import (
    BORGERSERVICE,
    CHRISTMAS_CLOSURES,
    DATA,
    HEADER,
    LAB_PBX,
    Clock,
    at,
)

UNIT = "borgerservice"
REGISTRY = HEADER + CHRISTMAS_CLOSURES + LAB_PBX + BORGERSERVICE
TRACES = DATA / "ami-traces"
RECORDING = "b-abandoned"  # one citizen who hangs up in the queue: closed when the unit is
DEVICE = "PJSIP/anne"


@dataclass(frozen=True)
class Scenario:
    """When the doors are asked, and what each must say then."""

    at: datetime
    override: bool
    reason: str
    next_open: datetime
    due_at: datetime  # the deadline of a call missed then: working days, never overrides


SCENARIOS = {
    # Monday 10:00-14:00; "Brandalarm" closes it at 11:00 for an hour.
    "override": Scenario(
        at("2026-11-23T11:00"),
        True,
        "Brandalarm",
        at("2026-11-23T12:00"),
        at("2026-11-24T15:00"),
    ),
    # 24 December is a closed day, then the Christmas closure, New Year and a weekend.
    "closed-day": Scenario(
        at("2026-12-24T11:00"),
        False,
        "Juleaftensdag",
        at("2027-01-04T10:00"),
        at("2027-01-04T15:00"),
    ),
}


@dataclass
class World:
    """The registry file, the database and the services of one scenario."""

    scenario: Scenario
    clock: Clock
    config: Path
    url: str
    services: Services
    folder: Path


@pytest.fixture(params=list(SCENARIOS))
def world(
    request: pytest.FixtureRequest, database_url: str, tmp_path: Path, monkeypatch
) -> Iterator[World]:
    """A scenario's registry and database, with the override stored when it has one."""
    scenario = SCENARIOS[request.param]
    config = tmp_path / "opening_hours.toml"
    config.write_text(REGISTRY, encoding="utf-8")
    monkeypatch.setenv("PHONESERVICE_CONFIG", str(config))
    monkeypatch.setenv("PHONESERVICE_DATABASE_URL", database_url)
    clock = Clock(scenario.at)
    settings = Settings(config=str(config), database_url=database_url, cookie_secure=False)
    services = build(settings, clock)
    if scenario.override:
        services.overrides.create(
            UNIT, open=False, reason="Brandalarm", until=Until(minutes=60), author="vagt"
        )
    yield World(scenario, clock, config, database_url, services, tmp_path)
    services.close()


# --- the doors: each returns (open, reason, next change) as it tells it ------------------

Answer = tuple[bool, str | None, datetime | None]


def _json(world: World, capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    code = main([*argv, "--config", str(world.config), "--json"], clock=world.clock)
    out, err = capsys.readouterr()
    assert code == 0, err
    return json.loads(out)


def cli_status(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    (found,) = _json(world, capsys, "status", UNIT)
    return found["open"], found["reason"], _instant(found["next_open"])


def cli_hours(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    now = world.scenario.at
    (day,) = _json(world, capsys, "hours", UNIT, "--from", now.date().isoformat(), "--days", "1")
    minute = now.hour * 60 + now.minute
    inside = any(_minutes(text)[0] <= minute < _minutes(text)[1] for text in day["intervals"])
    return inside, day["reason"], None


def api_status(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    found = _client(world).get("/api/v1/status").get_json()
    (entry,) = [e for e in found if e["id"] == UNIT]
    return entry["open"], entry["reason"], _instant(entry["next_open"])


def open_txt(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    text = _client(world).get(f"/api/v1/units/{UNIT}/open.txt").get_data(as_text=True)
    assert text in ("open", "closed")
    return text == "open", None, None


def board_row(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    page = _client(world).get("/").get_data(as_text=True)
    start = page.index(f'id="unit-{UNIT}"')
    return _page_answer(world, page[start : page.index("</tr>", start)])


def unit_page(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    page = _client(world).get(f"/units/{UNIT}").get_data(as_text=True)
    start = page.index('class="unit-head')
    return _page_answer(world, page[start : page.index("</header>", start)])


def place_call(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    """A callback call is placed only with confirmation while the unit is closed."""
    callbacks = world.services.callbacks
    task = _missed_call_task(world)
    accounts = world.services.accounts
    accounts.add_user("anne", "a password for tests", "agent", actor="test")
    accounts.set_device("anne", DEVICE, actor="test")  # the phone a placed call rings first
    try:
        callbacks.place_call(task, "anne")
    except UnitClosed:
        callbacks.place_call(task, "anne", confirm_closed=True)  # the agent confirms
        return False, None, None
    return True, None, None


def ingest_ami(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    return _ingested(world, capsys, "ami")


def ingest_queue_log(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    return _ingested(world, capsys, "queue_log")


def unit_state_trigger(world: World, capsys: pytest.CaptureFixture[str]) -> Answer:
    """The worker's unit-state job: when it fires next, and what it then reports."""
    services = world.services
    services.live_overrides.refresh()  # as the worker does before its first job
    (spec,) = [s for s in job_specs(services.registry, services.live_hours) if s.id == UNIT_STATE]
    fires = spec.trigger.get_next_fire_time(None, world.scenario.at)
    (found,) = services.live_hours.status((UNIT,), world.scenario.at)
    return found.status.open, found.status.reason, fires


Door = Callable[[World, pytest.CaptureFixture[str]], Answer]
# Which parts of the answer each door tells: open always; the reason and the next change
# where the door has words or times for them.
DOORS: dict[str, tuple[Door, bool, bool]] = {
    "cli-status": (cli_status, True, True),
    "cli-hours": (cli_hours, True, False),
    "api-status": (api_status, True, True),
    "open-txt": (open_txt, False, False),
    "board-row": (board_row, True, False),
    "unit-page": (unit_page, True, False),
    "place-call": (place_call, False, False),
    "ingest-ami": (ingest_ami, False, False),
    "ingest-queue-log": (ingest_queue_log, False, False),
    "unit-state-trigger": (unit_state_trigger, True, True),
}


@pytest.mark.parametrize("door", list(DOORS))
def test_every_door_gives_the_same_answer(world: World, capsys, door: str) -> None:
    ask, tells_reason, tells_change = DOORS[door]
    is_open, reason, change = ask(world, capsys)
    assert is_open is False
    if tells_reason:
        assert reason == world.scenario.reason
    if tells_change:
        assert change == world.scenario.next_open


def test_the_deadline_counts_working_days_and_no_override(world: World, capsys) -> None:
    """``deadline``: an override closes the phones, not the working day (SPEC §4.3)."""
    now = world.scenario.at.isoformat()
    found = _json(world, capsys, "deadline", UNIT, "--at", now)
    assert _instant(found["due_at"]) == world.scenario.due_at


# --- helpers -------------------------------------------------------------------------


def _instant(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _minutes(interval: str) -> tuple[int, int]:
    """``"10:00-11:00"`` as minutes after midnight."""
    start, end = (int(h) * 60 + int(m) for h, m in (t.split(":") for t in interval.split("-")))
    return start, end


def _client(world: World):
    app = create_app(world.services)
    app.config["TESTING"] = True
    return app.test_client()


def _page_answer(world: World, html: str) -> Answer:
    """Open or closed by the pill's word (and class), the reason as the page writes it."""
    closed, opened = "LUKKET" in html and "is-closed" in html, "ÅBEN" in html
    assert closed != opened, html
    return opened, world.scenario.reason if world.scenario.reason in html else None, None


def _missed_call_task(world: World) -> int:
    """A callback task from a call missed an hour earlier, made through the call log."""
    _ingest(world, "ami", world.scenario.at - timedelta(hours=1), "earlier")
    (view,) = world.services.callbacks.list()
    return view.callback.id


def _ingested(world: World, capsys: pytest.CaptureFixture[str], witness: str) -> Answer:
    """The recorded call re-timed to a minute after the scenario's instant, as logged."""
    _ingest(world, witness, world.scenario.at + timedelta(minutes=1), witness)
    capsys.readouterr()  # what ingest printed
    found = _json(world, capsys, "calls")
    (call,) = [c for c in found if c["source"] == witness]
    assert call["outcome"] == "closed", call
    return call["during_hours"], None, None


def _ingest(world: World, witness: str, arrival: datetime, pbx: str) -> None:
    """Ingest the recording (or only its queue_log) re-timed so its call arrives at ``arrival``."""
    ami, delta = retime_to((TRACES / f"{RECORDING}.ami").read_bytes(), arrival.timestamp())
    if witness == "ami":
        path = world.folder / f"{pbx}.ami"
        path.write_bytes(ami)
    else:
        path = world.folder / f"{pbx}.queue_log"
        path.write_bytes(_retimed_queue_log(delta))
    world.clock.now = arrival + timedelta(minutes=10)  # the call is over when it is read
    try:
        code = main(["ingest", str(path), "--pbx", pbx, "--config", str(world.config)], world.clock)
    finally:
        world.clock.now = world.scenario.at
    assert code == 0


def _retimed_queue_log(delta: int) -> bytes:
    """The recording's queue_log with every epoch (first field and call ids) moved by ``delta``."""
    lines = retime((TRACES / f"{RECORDING}.queue_log").read_bytes(), delta)
    return re.sub(rb"(?m)^(\d{10})\|", lambda m: b"%d|" % (int(m[1]) + delta), lines)
