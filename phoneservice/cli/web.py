"""The HTTP processes: ``web`` (the Flask app) and ``run`` (web + worker in one process).

Both serve with waitress in the main thread (:mod:`phoneservice.web.server`) until
SIGTERM or SIGINT, then exit 0. ``run`` also hosts the worker of
:mod:`phoneservice.cli.processes` (leader lock, scheduler, AMI followers) in a background
thread with its own asyncio loop; the signal stops the web server first, then the worker,
which stores what it holds before it returns. A worker that ends on its own (a lost lock,
a failure) stops the web server too, and ``run`` exits 1.
"""

from __future__ import annotations

import _thread
import argparse
import asyncio
import contextlib
import dataclasses
import logging
import signal
import threading
from collections.abc import Callable
from typing import Any

from phoneservice.cli.common import EXIT_FAILURE, EXIT_OK, Clock, UsageError, common_options
from phoneservice.cli.processes import Source, _serve, _targets, configure_logging
from phoneservice.cli.reload import hot_reload, live_registry
from phoneservice.settings import Settings
from phoneservice.storage.leader import LeaderError, LeaderLock
from phoneservice.storage.migrate import upgrade
from phoneservice.web import create_app
from phoneservice.web.server import Stopped, bind, stop_on_signals

_log = logging.getLogger("phoneservice.run")
DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
WORKER_STOP_TIMEOUT = 20.0  # seconds the worker gets to store what it holds and stop


def register(commands: Any) -> None:
    """Add ``web`` and ``run`` to the parser."""
    web = commands.add_parser(
        "web",
        parents=[common_options(), _http_options()],
        help="serve the web app and the JSON API (waitress; gunicorn: phoneservice.web.wsgi:app)",
    )
    web.set_defaults(run=cmd_web)
    run = commands.add_parser(
        "run",
        parents=[common_options(), _http_options()],
        help="web + worker in one process (SQLite in the instance folder by default)",
    )
    run.set_defaults(run=cmd_run)


def _http_options() -> argparse.ArgumentParser:
    """``--host`` and ``--port``."""
    options = argparse.ArgumentParser(add_help=False)
    options.add_argument("--host", default=DEFAULT_HOST, help=f"default {DEFAULT_HOST}")
    options.add_argument("--port", type=_port, default=DEFAULT_PORT, help=f"default {DEFAULT_PORT}")
    return options


def _port(text: str) -> int:
    """A TCP port number."""
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port (1-65535)")
    return int(text)


def cmd_web(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Serve the app until SIGTERM or SIGINT; a bad registry is reported before serving."""
    configure_logging(settings)
    settings.require_secret_key()  # sessions of several processes must share one key
    registry = live_registry(args, settings, clock)  # ConfigError → exit 2, file:line errors
    # SQLite in the instance folder unless DATABASE_URL says otherwise, migrated now:
    # sign-in, the callback pages, /readyz and /metrics all use it.
    settings = dataclasses.replace(settings, database_url=settings.database())
    upgrade(settings.database())
    app = create_app(settings, registry=registry, clock=clock)
    # Stopped escapes the server only when the signal came before its loop started.
    with stop_on_signals(), hot_reload(registry), contextlib.suppress(Stopped):
        bind(app, args.host, args.port).run()
    return EXIT_OK


def cmd_run(
    args: argparse.Namespace,
    settings: Settings,
    clock: Clock,
    *,
    ready: Callable[[], None] | None = None,
) -> int:
    """Web + worker in one process until SIGTERM or SIGINT (or until the worker ends).

    ``ready`` is called once the web server is bound, just before it serves (``demo``).
    """
    configure_logging(settings)
    registry = live_registry(args, settings, clock)
    if settings.ami_url:
        _targets(settings)  # a bad AMI URL is a usage error now, not later in the thread
    url = settings.database()  # SQLite in the instance folder unless DATABASE_URL is set
    try:
        lock = LeaderLock.for_url(url)
    except LeaderError as exc:
        raise UsageError(f"PHONESERVICE_DATABASE_URL: {exc}") from exc
    # The web part uses the same database as the worker (and /readyz probes it); without a
    # key, sessions are signed with one kept in the instance folder, and served over plain
    # HTTP on this machine, cookies cannot be Secure.
    settings = dataclasses.replace(
        settings,
        database_url=url,
        secret_key=settings.instance_secret_key(),
        cookie_secure=bool(settings.cookie_secure),
    )  # the schema: the worker thread migrates it first thing
    app = create_app(settings, registry=registry, clock=clock)
    worker = WorkerThread(settings, registry, url, lock, clock)
    # Signals before the thread starts: it may stop the server by SIGTERM; SIGHUP reloads.
    with stop_on_signals(), hot_reload(registry):
        try:
            server = bind(app, args.host, args.port)
            worker.start()
            if ready is not None:
                ready()
            server.run()
        except Stopped:
            pass
        finally:
            worker.stop(WORKER_STOP_TIMEOUT)
    return worker.code if worker.code is not None else EXIT_FAILURE


class WorkerThread(threading.Thread):
    """The worker of ``phoneservice worker`` on its own asyncio loop in this thread."""

    def __init__(
        self, settings: Settings, registry: Source, url: str, lock: LeaderLock, clock: Clock
    ) -> None:
        # A daemon thread: a worker that does not stop within the timeout does not keep
        # the process alive (the lock dies with it).
        super().__init__(name="phoneservice-worker", daemon=True)
        self._args = (settings, registry, url, lock, clock)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_event: asyncio.Event | None = None
        self._started = threading.Event()
        self._guard = threading.Lock()
        self._stopping = False
        self.code: int | None = None

    def run(self) -> None:
        """Run the worker until :meth:`stop`; if it ends first, stop the web server too."""
        try:
            self.code = asyncio.run(self._main())
        except BaseException as exc:  # a message in the log, never a traceback
            _log.error("worker failed: %s: %s", type(exc).__name__, exc)
            self.code = EXIT_FAILURE
        finally:
            self._started.set()
            with self._guard:
                ended_alone = not self._stopping
            if ended_alone:
                _log.error("the worker stopped (exit code %s): stopping the web server", self.code)
                _thread.interrupt_main(signal.SIGTERM)  # handled by stop_on_signals

    async def _main(self) -> int:
        self._loop, self._stop_event = asyncio.get_running_loop(), asyncio.Event()
        self._started.set()
        return await _serve(*self._args, stop=self._stop_event)

    def stop(self, timeout: float) -> None:
        """Ask the worker to stop (it stores what it holds) and wait up to ``timeout`` s."""
        with self._guard:
            self._stopping = True
        if not self.is_alive():
            return
        self._started.wait(timeout)
        loop, stop = self._loop, self._stop_event
        if loop is not None and stop is not None:
            # RuntimeError: the loop has already closed, the worker has ended
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(stop.set)
        self.join(timeout)
        if self.is_alive():
            _log.error("the worker did not stop within %.0f s", timeout)
            self.code = EXIT_FAILURE
