"""Structured logs (SPEC §10 ``LOG_FORMAT``): one JSON object per line, never the AMI secret.

The formatter in-process over a real AMI login against the simulator, then each process
command as a real process with ``PHONESERVICE_LOG_FORMAT=json``: every line it writes on
stderr must parse as JSON.
"""

from __future__ import annotations

import asyncio
import io
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from phoneservice import logs
from phoneservice.demo.simulator import AmiSimulator
from phoneservice.pbx.client import AmiClient, AmiTarget
from tests.domain.test_call_tracker import TRACES
from tests.e2e.test_web_command import START_TIMEOUT, STOP_TIMEOUT, environment, free_port

SECRET = "s3cret-Jq8w-never-logged"
USER = "phoneservice"


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """The root logger writing JSON into a buffer, as ``configure`` sets it up; undone after."""
    root = logging.getLogger()
    handlers, level, hook = list(root.handlers), root.level, threading.excepthook
    stream = io.StringIO()
    logs.configure("json", [SECRET], level=logging.DEBUG, stream=stream)
    yield stream
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    root.setLevel(level)
    threading.excepthook = hook
    logging.captureWarnings(False)


def lines(text: str) -> list[dict]:
    """Every line as a JSON object (fails on any line that is not one)."""
    return [json.loads(line) for line in text.splitlines()]


def test_a_json_line_has_the_fixed_fields_the_extras_and_the_exception(captured):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("phoneservice.test").exception(
            "handling %s failed", "QueueCallerJoin", extra={"pbx": "lab", "unit": "jobcenter"}
        )
    [entry] = lines(captured.getvalue())
    assert list(entry)[:4] == ["ts", "level", "logger", "message"]
    stamp = datetime.fromisoformat(entry["ts"])
    assert stamp.utcoffset() == timedelta(0)
    assert entry["level"] == "ERROR" and entry["logger"] == "phoneservice.test"
    assert entry["message"] == "handling QueueCallerJoin failed"
    assert (entry["pbx"], entry["unit"]) == ("lab", "jobcenter")
    assert entry["exception"].startswith("Traceback") and "ValueError: boom" in entry["exception"]


def test_a_secret_that_reaches_a_log_call_is_masked(captured):
    logging.getLogger("phoneservice.test").warning("oops %s", SECRET, extra={"detail": SECRET})
    text = captured.getvalue()
    assert SECRET not in text
    assert lines(text)[0]["message"] == "oops ***" and lines(text)[0]["detail"] == "***"


def test_json_lines_of_an_ami_login_never_hold_the_secret(captured):
    wrong = "wrong-Zk2m-secret"
    logs.configure("json", [SECRET, wrong], level=logging.DEBUG, stream=captured)
    with AmiSimulator([TRACES / "a-answered.ami"] * 2, username=USER, secret=SECRET) as sim:

        async def login(secret: str) -> None:
            client = AmiClient(AmiTarget("lab", "127.0.0.1", sim.port, USER, secret))
            job = asyncio.create_task(client.run())
            if secret == SECRET:
                await client.wait_connected(10)
            else:
                while client.last_error is None:
                    await asyncio.sleep(0.01)
            await client.close()
            await job

        asyncio.run(login(wrong))
        asyncio.run(login(SECRET))
    text = captured.getvalue()
    entries = lines(text)
    connected = [e for e in entries if "connected, epoch" in e["message"]]
    assert connected and connected[0]["pbx"] == "lab"  # the PBX as a field of its own
    assert any("Authentication failed" in e["message"] for e in entries)
    assert SECRET not in text and wrong not in text


def test_text_lines_keep_their_format(captured):
    stream = io.StringIO()
    logs.configure("text", [SECRET], stream=stream)
    logging.getLogger("phoneservice.worker.follower").info("worker active: %s", SECRET)
    line = stream.getvalue().rstrip("\n")
    assert line.endswith(" INFO phoneservice.worker.follower: worker active: ***")


def test_configure_twice_keeps_one_handler(captured):
    ours = [h for h in logging.getLogger().handlers if getattr(h, "phoneservice", False)]
    logs.configure("json", stream=io.StringIO())
    again = [h for h in logging.getLogger().handlers if getattr(h, "phoneservice", False)]
    assert len(ours) == len(again) == 1


def test_an_unknown_format_is_refused():
    with pytest.raises(ValueError, match="use text or json"):
        logs.formatter("yaml")


# --- the process commands --------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
@pytest.mark.parametrize("command", ["web", "run", "worker", "demo"])
def test_every_stderr_line_of_a_process_is_json(tmp_path: Path, command: str) -> None:
    with AmiSimulator([TRACES / "e-burst.ami"], username=USER, secret=SECRET) as sim:
        env = environment(
            tmp_path,
            PHONESERVICE_LOG_FORMAT="json",
            PHONESERVICE_AMI_SECRET=SECRET,
            PHONESERVICE_DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        )
        if command in ("run", "worker"):
            env["PHONESERVICE_AMI_URL"] = f"ami://{USER}@127.0.0.1:{sim.port}?name=lab"
        argv = [command] if command == "worker" else [command, "--port", str(free_port())]
        if command == "demo":
            argv += ["--speed", "10"]
        text = run_until(tmp_path, argv, env, _ready_line(command))
    entries = lines(text)
    assert entries, "nothing was logged"
    for entry in entries:
        assert {"ts", "level", "logger", "message"} <= set(entry)
        assert datetime.fromisoformat(entry["ts"]).utcoffset() == timedelta(0)
    assert SECRET not in text
    messages = " ".join(e["message"] for e in entries)
    assert "Traceback" not in messages
    if command in ("run", "worker", "demo"):
        assert "AMI lab: connected" in messages or "AMI demo: connected" in messages


def _ready_line(command: str) -> str:
    """What the log says once the process does what it is for."""
    return "serving HTTP on" if command == "web" else ": connected, epoch"


def run_until(tmp_path: Path, argv: list[str], env: dict[str, str], wanted: str) -> str:
    """Start ``phoneservice argv``, wait until its log says ``wanted``, SIGTERM, its stderr."""
    log = tmp_path / "process.stderr"
    with log.open("wb") as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "phoneservice", *argv],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=err,
        )
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while wanted not in log.read_text() and time.monotonic() < deadline:
            assert process.poll() is None, log.read_text()
            time.sleep(0.1)
        assert wanted in log.read_text(), log.read_text()
        process.send_signal(signal.SIGTERM)
        assert process.wait(STOP_TIMEOUT) == 0, log.read_text()
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    return log.read_text(encoding="utf-8")
