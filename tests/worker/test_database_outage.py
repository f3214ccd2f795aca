"""Fault tests: a real ``phoneservice worker`` process follows a replayed PBX while its
database goes away and comes back; no call may be lost, and an outage costs a few log
lines, not one per event.

1. PostgreSQL: a throwaway server this test starts (initdb, pg_ctl on a free port in a
   temporary directory) is stopped (``pg_ctl stop -m fast``) while e-burst streams.
2. SQLite on a small tmpfs (root only) that is filled to the last byte, then freed.

Each outage lasts 30 s (``PHONESERVICE_TEST_OUTAGE_SECONDS`` sets another length): the
replay (35 s at twice real time) goes on meanwhile, so most calls end while nothing can be
stored. A test takes about 45 s; a shorter outage saves little, because the worker's
retry backoff (1, 2, 4, 8, 16, 30 s) decides when it stores again.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from phoneservice.demo.simulator import AmiSimulator, Script
from phoneservice.storage.engine import create_engine_for
from phoneservice.storage.migrate import upgrade
from tests.conftest import LAB_REGISTRY
from tests.domain.test_call_tracker import TRACES, truth
from tests.storage.test_leader import Worker

pytestmark = pytest.mark.slow

OUTAGE = float(os.environ.get("PHONESERVICE_TEST_OUTAGE_SECONDS", "30"))
SCENARIO = "e-burst"  # 30 calls over 70 s of recording
SPEED = 2.0  # the replay's pace: 35 s, so that calls end before, during and after the outage
STARTUP = 60.0
RECOVERY = 120.0  # seconds after the outage within which every call must be stored
MAX_LINES = 12  # warnings and errors the worker may log for one outage


def outage_worker(
    home: Path, database_url: str, ami_port: int, metrics_port: int | None = None
) -> Worker:
    """A ``phoneservice worker`` process on ``database_url``, following the simulator."""
    ami = {
        "PHONESERVICE_AMI_URL": f"ami://phoneservice@127.0.0.1:{ami_port}?name=lab",
        "PHONESERVICE_AMI_SECRET": "s3cret",
    }
    if metrics_port is not None:
        ami["PHONESERVICE_WORKER_METRICS"] = f"127.0.0.1:{metrics_port}"
    return Worker("worker", home, database_url, registry=LAB_REGISTRY, settings=ami)


def scrape(port: int) -> dict[str, float]:
    """The worker's own metrics: sample name with labels → value."""
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as answer:
        text = answer.read().decode()
    samples = (line.rsplit(" ", 1) for line in text.splitlines() if line[:1] not in ("#", ""))
    return {name: float(value) for name, value in samples}


class ThrowawayPostgres:
    """A PostgreSQL server of its own in a temporary directory, run as ``postgres``."""

    def __init__(self, home: Path, port: int) -> None:
        self.home, self.port = home, port
        self.data = home / "data"
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def _run(self, *args: str) -> None:
        command = list(args)
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = f"-p {self.port} -k {self.home} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.home / "server.log")
        self._run("pg_ctl", "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    """A server started for this test, stopped and removed after it; skipped without one."""
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.skip("initdb/pg_ctl are not on PATH: no throwaway PostgreSQL server")
    home = Path(tempfile.mkdtemp(prefix="phoneservice-pg-"))
    if os.geteuid() == 0:
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            shutil.rmtree(home)
            pytest.skip("running as root without a postgres user: initdb refuses root")
        os.chown(home, owner.pw_uid, owner.pw_gid)
    home.chmod(0o700)
    server = ThrowawayPostgres(home, free_port())
    try:
        server.init()
        server.start()
    except (OSError, subprocess.CalledProcessError) as exc:
        shutil.rmtree(home, ignore_errors=True)
        pytest.skip(f"a throwaway PostgreSQL server cannot run here: {exc}")
    try:
        yield server
    finally:
        with contextlib.suppress(Exception):
            server.stop("immediate")
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def small_tmpfs() -> Iterator[Path]:
    """A 16 MB tmpfs of this test's own (root only), unmounted after it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a tmpfs to fill needs root; the disk-full test is skipped")
    where = Path(tempfile.mkdtemp(prefix="phoneservice-full-"))
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(where)], capture_output=True
    )
    if mounted.returncode != 0:
        where.rmdir()
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)
        with contextlib.suppress(OSError):
            where.rmdir()


def stored_uniqueids(database_url: str) -> set[str]:
    engine = create_engine_for(database_url)
    try:
        with engine.connect() as connection:
            return set(connection.execute(text("SELECT uniqueid FROM calls")).scalars())
    except Exception:
        return set()
    finally:
        engine.dispose()


def wait_for_calls(database_url: str, worker: Worker, enough, timeout: float) -> set[str]:
    deadline = time.monotonic() + timeout
    while True:
        found = stored_uniqueids(database_url)
        if enough(found):
            return found
        if worker.process.poll() is not None:
            pytest.fail(f"worker exited ({worker.process.returncode}):\n{worker.text()}")
        if time.monotonic() > deadline:
            pytest.fail(f"{len(found)} calls stored after {timeout} s:\n{worker.text()}")
        time.sleep(0.25)


def complaints(log: str) -> list[str]:
    """The warning and error lines of a text log."""
    return [line for line in log.splitlines() if " WARNING " in line or " ERROR " in line]


def ride_out(
    database_url: str, home: Path, outage, recover, during=None, metrics_port=None
) -> tuple[Worker, str]:
    """Run the worker on the replay; ``outage()`` after the first call is stored,
    ``during()`` OUTAGE s later, then ``recover()``; every call must then be stored."""
    expected = {call["uniqueid"] for call in truth(SCENARIO)["calls"]}
    script = Script(TRACES / f"{SCENARIO}.ami")
    with AmiSimulator([script], username="phoneservice", secret="s3cret", speed=SPEED) as sim:
        worker = outage_worker(home, database_url, sim.port, metrics_port)
        try:
            worker.wait_for("following PBX lab", STARTUP)
            first = wait_for_calls(database_url, worker, bool, STARTUP)
            before = len(worker.text())
            outage()
            time.sleep(OUTAGE)
            assert worker.process.poll() is None, worker.text()
            if during is not None:
                during()
            recover()
            wait_for_calls(database_url, worker, expected.__le__, RECOVERY)
            assert worker.process.poll() is None  # it never exited
            during = worker.text()[before:]
        finally:
            code = worker.stop()
    assert code == 0, worker.text()
    assert len(first) < len(expected)  # calls ended during and after the outage
    return worker, during


def test_a_postgresql_restart_loses_no_call(throwaway_postgres, tmp_path):
    server, port, seen = throwaway_postgres, free_port(), {}
    upgrade(server.url)
    worker, during = ride_out(
        server.url, tmp_path, server.stop, server.start, lambda: seen.update(scrape(port)), port
    )
    # a worker of its own (no web process) shows what it holds while the database is away
    assert seen['phoneservice_store_pending_calls{pbx="lab"}'] > 0
    assert seen['phoneservice_store_failures_total{pbx="lab"}'] > 0
    print(f"outage {OUTAGE:.0f} s; lines logged meanwhile:\n{during}")
    assert "Traceback" not in worker.text()
    assert during.count("the database is not available") == 1
    assert during.count("the database is available again") == 1
    assert len(complaints(during)) <= MAX_LINES, during


def test_a_full_disk_under_sqlite_loses_no_call(small_tmpfs, tmp_path):
    url = f"sqlite:///{small_tmpfs / 'phoneservice.sqlite3'}"
    upgrade(url)
    filler = small_tmpfs / "filler"

    def fill() -> None:
        with contextlib.suppress(OSError), filler.open("wb", buffering=0) as out:
            while True:  # unbuffered: partial writes until not one byte fits
                out.write(b"\0" * 65536)

    worker, during = ride_out(url, tmp_path, fill, filler.unlink)
    print(f"outage {OUTAGE:.0f} s; lines logged meanwhile:\n{during}")
    assert "Traceback" not in worker.text()
    assert during.count("the database is not available") == 1
    assert during.count("the database is available again") == 1
    assert len(complaints(during)) <= MAX_LINES, during
