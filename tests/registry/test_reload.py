"""Hot reload of the registry (SPEC §10): a changed file applies without a restart, a bad
file keeps the registry in use and shows its errors on ``/readyz`` and in the log.

Through the app built by its factory, the worker's own wiring (tracker, scheduler) and
real ``phoneservice web`` / ``worker`` processes that get SIGHUP.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from phoneservice.bootstrap import is_open_function
from phoneservice.domain.hours.status import earliest_change
from phoneservice.registry.holder import RegistryHolder
from phoneservice.settings import Settings
from phoneservice.storage.engine import create_engine_for
from phoneservice.web import create_app
from phoneservice.worker.jobs.scheduler import UNIT_STATE, build_scheduler
from phoneservice.worker.jobs.tasks import Tasks
from tests.conftest import BORGERSERVICE, HEADER, TODAY, at
from tests.e2e.test_web_command import START_TIMEOUT, STOP_TIMEOUT, Served, environment
from tests.staff import tokens

MONDAY_1300 = at("2026-11-23T13:00")  # Borgerservice: mon-wed 10:00-14:00
OPEN_TXT = "/api/v1/units/borgerservice/open.txt"
MONDAY_HOURS = "/api/v1/units/borgerservice/hours?from=2026-11-23&days=1"
EARLY_CLOSE = BORGERSERVICE.replace('"mon-wed" = ["10:00-14:00"]', '"mon-wed" = ["10:00-12:00"]')
BAD_TIME = BORGERSERVICE.replace('thu = ["10:00-17:00"]', 'thu = ["10:00-27:00"]')
WAIT = 30.0  # seconds a real process gets to show a reload (it needs far less)


def write(path: Path, units: str) -> None:
    """Write a registry file and move its mtime on, as a later save by an editor would."""
    path.write_text(HEADER + units, encoding="utf-8")
    stamp = path.stat().st_mtime_ns + 1_000_000_000
    os.utime(path, ns=(stamp, stamp))


@pytest.fixture(autouse=True)
def readyz_details(monkeypatch: pytest.MonkeyPatch) -> None:
    """``/readyz`` shows its details here as to a monitoring token (tests/web/test_web_api.py)."""
    from phoneservice.web.ops import health

    monkeypatch.setattr(health, "details_allowed", lambda: True)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "opening_hours.toml"
    write(path, BORGERSERVICE)
    return path


@pytest.fixture
def holder(config: Path) -> RegistryHolder:
    """The file loaded and watched; ``poll=0``: every request looks at the file."""
    return RegistryHolder.load(str(config), lambda: TODAY, poll=0)


@pytest.fixture
def client(holder: RegistryHolder, config: Path) -> FlaskClient:
    app = create_app(Settings(config=str(config)), registry=holder, clock=lambda: MONDAY_1300)
    return app.test_client()


def test_a_changed_file_is_served_without_a_restart(client, config):
    assert client.get(OPEN_TXT).get_data(as_text=True) == "open"
    write(config, EARLY_CLOSE)
    assert client.get(OPEN_TXT).get_data(as_text=True) == "closed"
    hours = client.get(MONDAY_HOURS).get_json()
    assert hours[0]["intervals"] == ["10:00-12:00"]


def test_a_bad_file_keeps_the_registry_in_use_and_readyz_names_the_line(
    client, config, holder, caplog
):
    loaded_at = client.get("/readyz").get_json()["registry"]["loaded_at"]
    write(config, BAD_TIME)
    assert client.get(OPEN_TXT).get_data(as_text=True) == "open"  # the old hours still serve
    response = client.get("/readyz")
    assert response.status_code == 200  # still serving correct hours: ready, but degraded
    body = response.get_json()
    assert body["ready"] is True and body["degraded"] is True
    registry = body["registry"]
    assert (registry["ok"], registry["loaded_at"]) == (False, loaded_at)
    line = (HEADER + BAD_TIME).splitlines().index('thu = ["10:00-27:00"]') + 1
    assert registry["errors"] == [
        f'{config}:{line}: unit[0].hours.thu[0]: "10:00-27:00" is not an interval: '
        '"27:00" is not a time of day (00:00 to 23:59, or 24:00 as an end)'
    ]
    assert registry["errors"][0] in caplog.text  # and the log says the same
    assert "still using the registry loaded at" in caplog.text
    write(config, EARLY_CLOSE)  # fixed: the next request takes it
    assert client.get(OPEN_TXT).get_data(as_text=True) == "closed"
    assert client.get("/readyz").get_json()["registry"]["errors"] == []


def test_a_missing_file_is_an_error_too(client, config):
    config.unlink()
    assert client.get(OPEN_TXT).get_data(as_text=True) == "open"
    errors = client.get("/readyz").get_json()["registry"]["errors"]
    assert errors == [f"{config}: cannot be read: no such file"]


def test_an_unchanged_file_is_not_loaded_again(holder):
    before = holder.registry
    assert holder.check() is False
    assert holder.registry is before


def test_a_reload_requested_by_signal_loads_even_an_unchanged_file(holder):
    before = holder.registry
    holder.request_reload()
    assert holder.check() is True
    assert holder.registry is not before


def test_a_fixed_registry_never_reloads(client, holder):
    fixed = RegistryHolder.fixed(holder.registry)
    fixed.request_reload()
    assert fixed.check() is False and fixed.reload() is False
    assert fixed.state().ok


def test_the_call_tracker_asks_the_registry_in_use(holder, config):
    is_open = is_open_function(holder)
    assert is_open("borgerservice", MONDAY_1300)
    write(config, EARLY_CLOSE)
    assert holder.check()
    assert not is_open("borgerservice", MONDAY_1300)


def test_the_unit_state_job_is_planned_again_after_a_reload(holder, config, tmp_path):
    engine = create_engine_for(f"sqlite:///{tmp_path / 'jobs.sqlite3'}")
    scheduler = build_scheduler(engine, holder.registry, Tasks())
    scheduler.start()
    holder.subscribe(scheduler.replan)
    try:
        # every boundary moves: 10-14 becomes 09-15 on the days with hours
        write(config, BORGERSERVICE.replace("10:00-", "09:00-").replace("-14:00", "-15:00"))
        assert holder.check()
        now = datetime.now(UTC)
        planned = scheduler.scheduler.get_job(UNIT_STATE).next_run_time
        schedules = {u.id: u.schedule for u in holder.registry.units.values()}
        assert planned == earliest_change(schedules, now)
    finally:
        scheduler.shutdown()
        engine.dispose()


# --- real processes ----------------------------------------------------------------------

SHIPPED_MONDAY = '"mon-wed" = ["10:00-14:00"]'
EARLIER_MONDAY = '"mon-wed" = ["09:00-14:00"]'  # the same length: only the content differs


@pytest.fixture
def processes() -> Iterator[list[Served]]:
    started: list[Served] = []
    yield started
    for served in started:
        served.kill()


def rewrite_in_place(path: Path, old: str, new: str) -> None:
    """Change the file keeping its size, mtime and inode: only SIGHUP can reveal it."""
    before = path.stat()
    text = path.read_text(encoding="utf-8")
    assert len(old) == len(new) and text.count(old) == 1
    with path.open("r+", encoding="utf-8") as file:
        file.write(text.replace(old, new))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    after = path.stat()
    assert (after.st_size, after.st_mtime_ns, after.st_ino) == (
        before.st_size,
        before.st_mtime_ns,
        before.st_ino,
    )


def until(check, what: str, served: Served):
    """Poll ``check`` until it returns something true (bounded), and return that."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    pytest.fail(f"{what} within {WAIT} s:\n{served.stderr()}")


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sighup_reloads_a_running_web_and_a_bad_file_keeps_its_hours(tmp_path, processes):
    env = environment(tmp_path, PHONESERVICE_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    config = Path(env["PHONESERVICE_CONFIG"])
    web = Served(tmp_path, ["web"], env, "web")
    processes.append(web)
    web.wait_ready()

    def monday() -> list[str]:
        return json.loads(web.get(MONDAY_HOURS)[2])[0]["intervals"]

    assert monday() == ["10:00-14:00"]
    rewrite_in_place(config, SHIPPED_MONDAY, EARLIER_MONDAY)
    web.process.send_signal(signal.SIGHUP)
    until(lambda: monday() == ["09:00-14:00"], "SIGHUP did not reload the registry", web)
    assert web.process.poll() is None  # SIGHUP did not end the process

    text = config.read_text(encoding="utf-8").replace('thu = ["10:00-17:00"]', "thu = [10-17]")
    config.write_text(text, encoding="utf-8")  # a new mtime: the file watch sees it

    _, secret = tokens(env["PHONESERVICE_DATABASE_URL"], lambda: datetime.now(UTC)).issue_token(
        "monitor", ["monitoring"], actor="test"
    )
    monitor = {"Authorization": f"Bearer {secret}"}

    def failed() -> dict | None:
        registry = json.loads(web.get("/readyz", monitor)[2])["registry"]
        return None if registry["ok"] else registry

    registry = until(failed, "/readyz did not report the bad file", web)
    assert len(registry["errors"]) == 1
    assert re.match(rf"{re.escape(str(config))}:\d+: ", registry["errors"][0])
    assert monday() == ["09:00-14:00"]  # the registry loaded before still serves
    assert web.get(OPEN_TXT)[0] == 200
    assert web.terminate() == 0, web.stderr()
    log = web.stderr()
    assert "registry reloaded from" in log
    assert registry["errors"][0] in log
    assert "Traceback" not in log


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_sighup_reloads_a_running_worker(tmp_path):
    env = environment(tmp_path, PHONESERVICE_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")
    log = tmp_path / "worker.stderr"
    with log.open("wb") as err:
        worker = subprocess.Popen(
            [sys.executable, "-m", "phoneservice", "worker"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while "worker active" not in log.read_text() and time.monotonic() < deadline:
            assert worker.poll() is None, log.read_text()
            time.sleep(0.1)
        rewrite_in_place(Path(env["PHONESERVICE_CONFIG"]), SHIPPED_MONDAY, EARLIER_MONDAY)
        worker.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + WAIT
        while "registry reloaded from" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert worker.poll() is None, log.read_text()
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(STOP_TIMEOUT) == 0, log.read_text()
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    text = log.read_text()
    assert "registry reloaded from" in text
    assert "Traceback" not in text
