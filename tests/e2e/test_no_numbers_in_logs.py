"""No citizen's number, name, note or reason in any log line, with every logger at DEBUG.

``phoneservice demo`` (the worker following a simulated PBX that replays the recorded AMI
traffic, and the web, in one process) runs with the root logger at DEBUG; the test signs
in, claims a task, records an attempt with a note, asks for a call, cancels a task with a
reason, opens the queue, the reports and a CSV, and runs the ``calls``, ``callbacks`` and
``report`` commands at DEBUG too. Then no stderr line of any of them holds a caller
number of the replayed calls in any spelling (``+45…``, ``0045…``, 8 digits, in pairs),
a caller's name, the note or the reason. stdout (the commands' own listings) is output,
not a log, and is not checked.

In-process, with ``caplog`` at DEBUG on the root logger: the worker follows the same
simulated PBX into a database that refuses every new call, so each store fails and is
logged with its traceback; no record names a number or a name of the replayed calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.domain.test_call_tracker import TRACES, truth
from tests.e2e.test_demo import CSRF, PASSWORD
from tests.e2e.test_web_command import environment, free_port

DEADLINE = 90.0  # seconds from the start until the demo lists enough callbacks
STOP_TIMEOUT = 30.0
NOTE = "Borgeren bad om opkald efter klokken 14 om boligstoette"
REASON = "Fejlopringning fra borgerens nabo Ole"
# Every logger at DEBUG, whatever the command: the process commands' own configure()
# keeps the level, and the short ones (calls, callbacks, report) get a handler too.
DEBUG_MAIN = (
    "import logging, sys\n"
    "from phoneservice import logs\n"
    "configure = logs.configure\n"
    "logs.configure = lambda *a, **k: configure(*a, **{**k, 'level': logging.DEBUG})\n"
    "logs.configure()\n"
    "from phoneservice.cli import main\n"
    "raise SystemExit(main(sys.argv[1:]))\n"
)
DEBUG_CLI = [sys.executable, "-c", DEBUG_MAIN]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals"),
]


def spellings(number: str) -> set[str]:
    """A Danish number as it may be written: +45…, 0045…, 45…, 8 digits, digits in pairs."""
    digits = re.sub(r"\D", "", number)
    national = digits[-8:] if len(digits) >= 8 else digits
    pairs = " ".join(national[i : i + 2] for i in range(0, len(national), 2))
    found = {number, digits, national, f"+45{national}", f"0045{national}", pairs}
    return {text for text in found if len(re.sub(r"\D", "", text)) >= 6}


class Browser:
    """A signed-in session: JSON API calls with the session's CSRF token, and pages."""

    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor())
        page = self.text("/login")
        found = CSRF.search(page)
        assert found is not None
        self.csrf = found.group(1)
        form = {"username": username, "password": password, "csrf_token": self.csrf}
        assert self.status("/login", urllib.parse.urlencode(form).encode(), {}) == 200
        found = CSRF.search(self.text("/callbacks"))  # the token of the signed-in session
        assert found is not None
        self.csrf = found.group(1)

    def status(self, path: str, data: bytes | None, headers: dict[str, str]) -> int:
        """The status of a request (errors included)."""
        request = urllib.request.Request(self.base + path, data=data, headers=headers)
        try:
            with self.opener.open(request, timeout=30) as response:
                response.read()
                return int(response.status)
        except urllib.error.HTTPError as error:
            return error.code

    def text(self, path: str) -> str:
        """The body of a GET."""
        with self.opener.open(self.base + path, timeout=30) as response:
            return str(response.read().decode("utf-8"))

    def json(self, path: str) -> Any:
        """A GET of the JSON API."""
        return json.loads(self.text(path))

    def post(self, path: str, body: dict[str, Any] | None = None) -> int:
        """A POST to the JSON API, as the pages' own scripts send it."""
        headers = {"Content-Type": "application/json", "X-CSRFToken": self.csrf}
        return self.status(path, json.dumps(body or {}).encode(), headers)


@pytest.fixture
def demo(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], str, dict[str, str]]]:
    """``phoneservice demo`` at DEBUG on a free port: the process, its base URL, its env."""
    env = environment(tmp_path, PHONESERVICE_DATABASE_URL=f"sqlite:///{tmp_path / 'demo.db'}")
    port = free_port()
    with (tmp_path / "demo.stderr").open("wb") as err, (tmp_path / "demo.stdout").open("wb") as out:
        process = subprocess.Popen(
            [*DEBUG_CLI, "demo", "--port", str(port)], cwd=tmp_path, env=env, stdout=out, stderr=err
        )
    try:
        yield process, f"http://127.0.0.1:{port}", env
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def wait_for(
    what: str, ready: Callable[[], Any], process: subprocess.Popen[bytes], log: Path
) -> Any:
    """Poll ``ready`` until it returns something true (bounded); fail if the demo exits."""
    deadline = time.monotonic() + DEADLINE
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"the demo exited with {process.returncode}:\n{log.read_text()}")
        try:
            found = ready()
        except (OSError, urllib.error.URLError):
            found = None
        if found:
            return found
        time.sleep(0.5)
    pytest.fail(f"no {what} within {DEADLINE} s:\n{log.read_text()}")


def cli_stderr(argv: list[str], env: dict[str, str], cwd: Path) -> str:
    """A command at DEBUG on the demo's database; its stderr (it must succeed)."""
    result = subprocess.run(
        [*DEBUG_CLI, *argv], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stderr


def exercise_the_web(web: Browser) -> list[dict[str, Any]]:
    """Claim, attempt with a note, ask for a call, cancel with a reason, queue and reports."""
    tasks = [t for t in web.json("/api/v1/callbacks") if t["state"] == "open"]
    first, last = tasks[0]["id"], tasks[-1]["id"]
    assert web.post(f"/api/v1/callbacks/{first}/claim") == 200
    attempt = {"outcome": "no_answer", "note": NOTE}
    assert web.post(f"/api/v1/callbacks/{first}/attempts", attempt) == 201
    assert web.post(f"/api/v1/callbacks/{first}/originate", {"confirm_closed": True}) in (202, 409)
    assert web.post(f"/api/v1/callbacks/{last}/cancel", {"reason": REASON}) == 200
    today = date.today().isoformat()
    web.text("/callbacks")
    web.text(f"/reports?from={today}&to={today}&by=day")
    web.text(f"/reports.csv?table=calls&from={today}&to={today}")
    web.text(f"/reports.csv?table=callbacks&from={today}&to={today}")
    return list(web.json("/api/v1/calls")) + list(web.json("/api/v1/callbacks"))


def personal_texts(records: list[dict[str, Any]]) -> set[str]:
    """Every spelling of every caller number, every caller name, the note and the reason."""
    found = {NOTE, REASON}
    for record in records:
        if record.get("caller_number"):
            found |= spellings(str(record["caller_number"]))
        if record.get("caller_name") and len(str(record["caller_name"])) >= 3:
            found.add(str(record["caller_name"]))
    return found


def test_no_personal_data_in_any_log_at_debug(tmp_path, demo):
    process, base, env = demo
    log, out = tmp_path / "demo.stderr", tmp_path / "demo.stdout"
    wait_for("/healthz", lambda: urllib.request.urlopen(base + "/healthz", timeout=2), process, log)
    password = wait_for("the sign-in", lambda: PASSWORD.search(out.read_text()), process, log)
    web = Browser(base, "demo", password.group(1))

    def two_open_tasks() -> bool:
        return len([t for t in web.json("/api/v1/callbacks") if t["state"] == "open"]) >= 2

    wait_for("two open callbacks", two_open_tasks, process, log)
    records = exercise_the_web(web)
    numbers = {r["caller_number"] for r in records if r.get("caller_number")}
    assert numbers, "the replayed calls show no numbers to a signed-in admin"
    today = date.today().isoformat()
    logs = {
        "calls": cli_stderr(["calls", "--json"], env, tmp_path),
        "callbacks": cli_stderr(["callbacks"], env, tmp_path),
        "report": cli_stderr(
            ["report", "--from", today, "--to", today, "--by", "day"], env, tmp_path
        ),
    }
    time.sleep(2)  # the worker picks up the call request and talks to the PBX meanwhile
    process.send_signal(signal.SIGTERM)
    assert process.wait(STOP_TIMEOUT) == 0, log.read_text()[-3000:]
    logs["demo"] = log.read_text(encoding="utf-8")
    assert " DEBUG " in logs["demo"]  # DEBUG records were written, not filtered out
    leaks = [
        f"{name}: {text!r} in {line.strip()[:300]!r}"
        for name, stderr in logs.items()
        for line in stderr.splitlines()
        for text in personal_texts(records)
        if text in line
    ]
    assert not leaks, "\n".join(leaks[:20])


@pytest.fixture
def lab_registry() -> Any:
    """The laboratory registry the recordings were made against (open around the clock)."""
    from phoneservice.registry import parse_registry
    from tests.conftest import LAB_REGISTRY, TODAY

    return parse_registry(LAB_REGISTRY, "lab.toml", TODAY)


REFUSE_CALLS = (
    "CREATE TRIGGER refuse_calls BEFORE INSERT ON calls "
    "BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"
)


def test_a_worker_that_cannot_store_calls_logs_no_numbers(tmp_path, lab_registry, caplog):
    from sqlalchemy import text

    from phoneservice.bootstrap import build_call_log
    from phoneservice.demo.simulator import AmiSimulator
    from phoneservice.pbx.client import AmiClient, AmiTarget
    from phoneservice.services.callbacks import CallbackService
    from phoneservice.services.calls import CallService
    from phoneservice.storage.engine import create_engine_for, session_factory
    from phoneservice.storage.migrate import upgrade
    from phoneservice.worker.follower import PbxFollower, follow_all

    url = f"sqlite:///{tmp_path / 'full.sqlite3'}"
    upgrade(url)
    engine = create_engine_for(url)
    with engine.begin() as connection:
        connection.execute(text(REFUSE_CALLS))
    sessions = session_factory(engine)
    service = CallService(
        sessions, CallbackService(sessions, lab_registry, lambda: datetime.now(UTC))
    )
    caplog.set_level(logging.DEBUG)
    with AmiSimulator([TRACES / "e-burst.ami"], username="phoneservice", secret="s3cret") as sim:
        target = AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s3cret")
        client = AmiClient(target, ping_interval=1.0, pong_timeout=2.0)
        call_log = build_call_log(lab_registry, "lab", service.store_for("lab"))
        follower = PbxFollower(client, call_log)

        async def follow_until_a_store_failed() -> None:
            stop = asyncio.Event()
            job = asyncio.create_task(follow_all([follower], stop))
            deadline = time.monotonic() + DEADLINE
            while follower.failures == 0 and time.monotonic() < deadline:
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)  # a few more calls fail to be stored meanwhile
            stop.set()
            await job

        asyncio.run(follow_until_a_store_failed())
    assert follower.failures > 0, "no store failed: the test proves nothing"
    assert "the disk is full" in caplog.text  # the failures were logged, tracebacks included
    calls = truth("e-burst")["calls"]
    personal = personal_texts(calls)
    leaks = sorted({text for text in personal if text in caplog.text})
    assert not leaks, leaks[:10]
