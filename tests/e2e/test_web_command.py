"""``phoneservice web`` and ``phoneservice run`` as real processes on loopback.

Each test starts ``python -m phoneservice`` with a registry and a database in
``tmp_path``, waits (bounded) until ``/healthz`` answers, asks the API, then sends SIGTERM
and checks a clean exit. No test asserts on timings.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import SHIPPED_CONFIG

ROOT = Path(__file__).resolve().parents[2]
BAD_CONFIG = ROOT / "tests" / "data" / "bad-config" / "missing-unit-id.toml"
CLI = [sys.executable, "-m", "phoneservice"]
START_TIMEOUT = 30.0  # seconds until /healthz must answer
STOP_TIMEOUT = 30.0  # seconds until the process must have exited after SIGTERM

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]


def free_port() -> int:
    """A port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The process environment without the caller's PHONESERVICE_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PHONESERVICE_")}
    config = tmp_path / "opening_hours.toml"
    shutil.copy(SHIPPED_CONFIG, config)
    env["PHONESERVICE_CONFIG"] = str(config)
    env["PHONESERVICE_INSTANCE"] = str(tmp_path / "instance")
    env["PHONESERVICE_SECRET_KEY"] = "test-" + "k" * 59
    env.update(extra)
    return env


class Served:
    """A ``phoneservice`` process that serves HTTP; stderr goes to a file."""

    def __init__(self, tmp_path: Path, argv: list[str], env: dict[str, str], name: str) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = tmp_path / f"{name}.stderr"
        with self.log.open("wb") as err:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "phoneservice", *argv, "--port", str(self.port)],
                cwd=tmp_path,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=err,
            )

    def stderr(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def wait_ready(self) -> None:
        """Poll /healthz until it answers 200; fail with the log if the process exits."""
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"exited with {self.process.returncode}:\n{self.stderr()}")
            try:
                with urllib.request.urlopen(self.base + "/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                pass
            time.sleep(0.1)
        pytest.fail(f"/healthz did not answer within {START_TIMEOUT} s:\n{self.stderr()}")

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, str, str]:
        """Status, content type and body of a GET."""
        request = urllib.request.Request(self.base + path, headers=headers or {})
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read().decode("utf-8")
            return response.status, response.headers["Content-Type"], body

    def terminate(self) -> int:
        """SIGTERM, then the exit code (bounded wait)."""
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(STOP_TIMEOUT)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[type[Served]]:
    """Start served processes; kill any the test left running."""
    started: list[Served] = []

    class Tracked(Served):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(*args, **kwargs)  # type: ignore[arg-type]
            started.append(self)

    yield Tracked
    for served in started:
        served.kill()


def check_api(served: Served) -> None:
    """open.txt and the status list answer as the SPEC says."""
    status, content_type, body = served.get("/api/v1/units/borgerservice/open.txt")
    assert status == 200
    assert content_type.startswith("text/plain")
    assert body in ("open", "closed")
    status, content_type, body = served.get("/api/v1/status")
    assert status == 200
    assert content_type.startswith("application/json")
    units = json.loads(body)
    borgerservice = next(unit for unit in units if unit["id"] == "borgerservice")
    assert isinstance(borgerservice["open"], bool)


def test_web_serves_until_sigterm(tmp_path, serve):
    database = tmp_path / "web.sqlite3"
    env = environment(tmp_path, PHONESERVICE_DATABASE_URL=f"sqlite:///{database}")
    web = serve(tmp_path, ["web"], env, "web")
    web.wait_ready()
    check_api(web)
    assert web.terminate() == 0, web.stderr()
    log = web.stderr()
    assert "serving HTTP on http://127.0.0.1:" in log
    assert "Traceback" not in log
    assert "worker active" not in log  # web alone hosts no worker


def test_run_serves_and_hosts_the_worker(tmp_path, serve):
    env = environment(tmp_path)  # no DATABASE_URL: SQLite in the instance folder
    run = serve(tmp_path, ["run"], env, "run")
    run.wait_ready()
    check_api(run)
    status, _, body = run.get("/readyz")
    assert status == 200
    assert json.loads(body) == {"ready": True, "degraded": False}  # no details anonymously
    deadline = time.monotonic() + START_TIMEOUT
    while "worker active" not in run.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert run.terminate() == 0, run.stderr()
    log = run.stderr()
    assert "worker active" in log
    assert "the AMI part stays idle" in log
    assert "scheduler stopped" in log  # the worker stopped cleanly, not killed
    assert "Traceback" not in log
    assert (tmp_path / "instance" / "phoneservice.sqlite3").exists()


def test_a_second_run_serves_while_its_worker_stands_by(tmp_path, serve):
    env = environment(tmp_path)
    first = serve(tmp_path, ["run"], env, "first")
    first.wait_ready()
    deadline = time.monotonic() + START_TIMEOUT
    while "worker active" not in first.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)
    second = serve(tmp_path, ["run"], env, "second")
    second.wait_ready()
    check_api(second)
    while "worker standby" not in second.stderr() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert "worker standby" in second.stderr()
    assert second.terminate() == 0, second.stderr()
    assert first.terminate() == 0, first.stderr()
    assert "worker active" not in second.stderr()


@pytest.mark.parametrize("command", ["web", "run"])
def test_a_bad_registry_exits_2_before_serving(tmp_path, command):
    bad = tmp_path / "bad.toml"
    shutil.copy(BAD_CONFIG, bad)
    result = subprocess.run(
        [*CLI, command, "--config", str(bad), "--port", str(free_port())],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert f"{bad}:29: unit[0].id: is required" in result.stderr.splitlines()
    assert "1 error(s) in the registry" in result.stderr
    assert "Traceback" not in result.stderr
    assert "serving HTTP" not in result.stderr


def test_a_port_in_use_is_a_failure_without_traceback(tmp_path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "phoneservice", "web", "--port", str(port)],
            cwd=tmp_path,
            env=environment(tmp_path),
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert result.returncode == 1
    assert "phoneservice: failed:" in result.stderr
    assert "Traceback" not in result.stderr


def test_a_bad_port_is_a_usage_error(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "phoneservice", "web", "--port", "http"],
        cwd=tmp_path,
        env=environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "is not a port" in result.stderr


def test_run_stops_its_web_server_when_the_worker_fails(tmp_path, serve):
    # A directory where the SQLite file should be: the lock is taken, the migration fails.
    (tmp_path / "instance" / "phoneservice.sqlite3").mkdir(parents=True)
    run = serve(tmp_path, ["run"], environment(tmp_path), "run")
    assert run.process.wait(STOP_TIMEOUT) == 1
    log = run.stderr()
    assert "worker failed: OperationalError" in log
    assert "stopping the web server" in log
    assert "Traceback" not in log
