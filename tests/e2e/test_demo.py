"""``phoneservice demo`` as a real process: a simulated PBX feeds ``run`` on loopback.

Starts ``python -m phoneservice demo`` with a registry and a SQLite database in
``tmp_path``, waits (bounded) until ``/healthz`` answers, signs in with the account the
demo prints, waits until ``/api/v1/calls`` and ``/api/v1/callbacks`` list something,
then sends SIGTERM and expects exit 0.
"""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.test_web_command import environment, free_port

CLI = [sys.executable, "-m", "phoneservice"]
DEADLINE = 60.0  # seconds from the start until calls and callbacks must be listed
STOP_TIMEOUT = 30.0

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]


def listed(command: str, env: dict[str, str], cwd: Path, strict: bool = True) -> list[object]:
    """What ``phoneservice <command> --json`` lists on the demo's database.

    Not ``strict``: an error (the worker has not created the tables yet) lists nothing.
    """
    result = subprocess.run(
        [*CLI, command, "--json"], cwd=cwd, env=env, capture_output=True, text=True, timeout=60
    )
    if not strict and result.returncode != 0:
        return []
    assert result.returncode == 0, result.stderr
    found = json.loads(result.stdout)
    assert isinstance(found, list)
    return found


PASSWORD = re.compile(r"as 'demo' with the password '([^']+)'")
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def signed_in(base: str, username: str, password: str) -> Callable[[str], list[object]]:
    """Sign in through the form, as a browser would; a GET of the JSON API as that user."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
    with opener.open(base + "/login", timeout=10) as response:
        token = CSRF.search(response.read().decode())
    assert token is not None
    form = {"username": username, "password": password, "csrf_token": token.group(1)}
    with opener.open(base + "/login", urllib.parse.urlencode(form).encode(), timeout=10) as answer:
        assert answer.status == 200  # redirected to the board

    def get(path: str) -> list[object]:
        with opener.open(base + path, timeout=10) as response:
            found = json.loads(response.read())
        assert isinstance(found, list)
        return found

    return get


def healthy(base: str) -> bool:
    try:
        with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def test_demo_shows_calls_and_callbacks_within_a_minute(tmp_path):
    database = tmp_path / "demo.sqlite3"
    env = environment(tmp_path, PHONESERVICE_DATABASE_URL=f"sqlite:///{database}")
    port = free_port()
    log, out = tmp_path / "demo.stderr", tmp_path / "demo.stdout"
    with log.open("wb") as err, out.open("wb") as stdout:
        process = subprocess.Popen(
            [*CLI, "demo", "--port", str(port)], cwd=tmp_path, env=env, stdout=stdout, stderr=err
        )
    try:
        deadline = time.monotonic() + DEADLINE

        def wait_for(what: str, ready: object) -> None:
            while time.monotonic() < deadline:
                if process.poll() is not None:
                    pytest.fail(f"exited with {process.returncode}:\n{log.read_text()}")
                if ready():  # type: ignore[operator]
                    return
                time.sleep(0.5)
            pytest.fail(f"no {what} within {DEADLINE} s:\n{log.read_text()}")

        base = f"http://127.0.0.1:{port}"
        wait_for("/healthz", lambda: healthy(base))
        wait_for("the sign-in", lambda: PASSWORD.search(out.read_text()))
        found = PASSWORD.search(out.read_text())
        assert found is not None
        api = signed_in(base, "demo", found.group(1))
        wait_for("calls in the API", lambda: api("/api/v1/calls"))
        wait_for("callbacks in the API", lambda: api("/api/v1/callbacks"))
        calls = api("/api/v1/calls")
        assert all(call["pbx"] == "demo" for call in calls)  # type: ignore[index]
        assert all(task["due_at"] for task in api("/api/v1/callbacks"))  # type: ignore[index]
        assert listed("callbacks", env, tmp_path)  # the CLI sees the same database
        process.send_signal(signal.SIGTERM)
        assert process.wait(STOP_TIMEOUT) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    printed = out.read_text()
    assert f"http://127.0.0.1:{port}/" in printed
    assert "phoneservice calls" in printed and "phoneservice callbacks" in printed
    stderr = log.read_text()
    assert "Traceback" not in stderr
    assert "scheduler stopped" in stderr  # the worker stopped, not killed
    # Local time of the registry with its offset; APScheduler's routine lines only at DEBUG.
    offset = datetime.now(ZoneInfo("Europe/Copenhagen")).strftime("%z")
    zone = re.escape(f"{offset[:3]}:{offset[3:]}")
    stamp = rf"\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}}{zone}"
    assert re.search(rf"^{stamp} INFO phoneservice.web: serving HTTP", stderr, re.MULTILINE)
    assert "Added job" not in stderr and "Scheduler started" not in stderr
    assert "simulated phone system" in printed.splitlines()[0]


def test_the_packaged_recording_is_the_recorded_traffic(tmp_path):
    from phoneservice.cli.demo import DEFAULT_RECORDING, unpacked

    played = unpacked(DEFAULT_RECORDING, tmp_path)
    traces = Path(__file__).resolve().parents[1] / "data" / "ami-traces"
    for suffix in (".ami", ".timing.jsonl", ".sent.jsonl"):
        shipped = played.with_name("e-burst" + suffix).read_bytes()
        assert shipped == (traces / ("e-burst" + suffix)).read_bytes()
