"""»Ring op« end to end in a real headless Chromium: the page, the worker's follower and the
simulated PBX of the demo (``phoneservice/demo/originate.py``) over loopback.

The agent claims a task and presses »Ring op«; the follower sends the Originate; the
simulator answers the agent's phone, then the citizen's; the row follows the call without
a reload ("Ringer hos borgeren …", then "Talt med borgeren") and the task is closed as
called back (docs/callbacks.md: a reached citizen closes the task).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from phoneservice.bootstrap import build_call_log
from phoneservice.demo.simulator import AmiSimulator, Script
from phoneservice.pbx.client import AmiClient, AmiTarget
from phoneservice.worker.dialer import OriginateOutbox
from phoneservice.worker.follower import PbxFollower, follow_all
from tests.domain.test_call_tracker import TRACES
from tests.web.browsing import BROWSER_MARKS
from tests.web.test_browser import ARTIFACTS, VIEWPORT, served
from tests.web.test_browser_callbacks import seeded, sign_in, viewing
from tests.web.test_web_callbacks import World

pytestmark = BROWSER_MARKS
sync_api = pytest.importorskip(
    "playwright.sync_api", reason="playwright missing: pip install -e '.[dev]'"
)
PHONE = {"width": 390, "height": 844}
WAIT = 20_000  # ms: the simulator answers after 2 s and 3 s more; polls every second


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for found in seeded(tmp_path_factory, []):
        found.client("anne")  # makes the account, with its phone
        yield found


@pytest.fixture(scope="module")
def worker(world: World) -> Iterator[None]:
    """The demo's simulated PBX, and a follower placing the queue's calls through it."""
    with AmiSimulator([Script(TRACES / "a-answered.ami", ending="idle")], answer_wait=0) as sim:
        registry = world.queue.callbacks.registry
        call_log = build_call_log(registry, "lab", world.queue.calls.store_for("lab"))
        client = AmiClient(AmiTarget("lab", "127.0.0.1", sim.port, "phoneservice", "s"))
        follower = PbxFollower(client, call_log, originates=OriginateOutbox(world.queue.callbacks))
        loop = asyncio.new_event_loop()
        stop = asyncio.Event()
        thread = threading.Thread(
            target=loop.run_until_complete, args=(follow_all([follower], stop),), daemon=True
        )
        thread.start()
        try:
            yield
        finally:
            loop.call_soon_threadsafe(stop.set)
            thread.join(10)
            loop.close()
        assert follower.failures == 0


@pytest.fixture(scope="module")
def server(world: World, worker: None) -> Iterator[str]:
    with served(world.app) as base:
        yield base


@pytest.mark.parametrize(
    ("viewport", "task", "size"), [(VIEWPORT, "today", "1366"), (PHONE, "late", "390")]
)
def test_ring_op_follows_the_call_live_until_the_citizen_is_reached(
    browser: Any, server: str, world: World, viewport: dict[str, int], task: str, size: str
) -> None:
    for page in viewing(browser, viewport):
        sign_in(page, server, "anne")
        page.evaluate("window.notReloaded = true")
        row = page.locator(f"#task-{world.ids[task]}")
        row.locator("a.pick").click()
        row.get_by_role("button", name="Tag opgaven").click()
        sync_api.expect(row).to_contain_text("Du har taget opgaven.")
        assert row.locator("input[name*=device], input[name*=channel]").count() == 0
        row.get_by_role("button", name="Ring op").click()
        state = row.locator(".call-state")
        sync_api.expect(state).to_have_text("Ringer hos borgeren …", timeout=WAIT)
        ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"callback-queue-{size}-live-call.png"))
        sync_api.expect(state).to_have_text("Talt med borgeren", timeout=WAIT)
        sync_api.expect(row).to_contain_text("Borgeren er ringet op")
        sync_api.expect(row).to_contain_text("lukket af anne")
        assert page.evaluate("window.notReloaded") is True
        page.screenshot(path=str(ARTIFACTS / f"callback-queue-{size}-reached.png"))
    done = world.task(task)
    assert (done.state, done.resolution, done.closed_by) == ("done", "called_back", "anne")
    assert (done.attempts[-1].outcome, done.attempts[-1].status) == ("reached", "resolved")
