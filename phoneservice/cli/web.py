"""The HTTP processes: ``web`` (the Flask app) and ``run`` (web + worker in one process).

Both serve with waitress in the main thread (:mod:`phoneservice.web.server`) until
SIGTERM or SIGINT, then exit 0. ``run`` also hosts the worker of
:mod:`phoneservice.worker.process` (leader lock, scheduler, AMI followers) in a background
thread with its own asyncio loop; the signal stops the web server first, then the worker,
which stores what it holds before it returns. A worker that ends on its own (a lost lock,
a failure) stops the web server too, and ``run`` exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from phoneservice.cli.common import EXIT_FAILURE, EXIT_OK, Clock, common_options, services
from phoneservice.cli.processes import configure_logging
from phoneservice.cli.reload import hot_reload
from phoneservice.settings import Settings

if TYPE_CHECKING:
    from phoneservice.bootstrap import Services

DEFAULT_HOST, DEFAULT_PORT = "127.0.0.1", 8000
WORKER_STOP_TIMEOUT = 20.0  # seconds the worker gets to store what it holds and stop


def register(commands: Any) -> None:
    """Add ``web`` and ``run`` to the parser."""
    web = commands.add_parser(
        "web",
        parents=[common_options(data=False), _http_options()],
    )
    web.set_defaults(run=cmd_web)
    run = commands.add_parser(
        "run",
        parents=[common_options(data=False), _http_options()],
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
    from phoneservice.web import create_app
    from phoneservice.web.server import Stopped, bind, stop_on_signals

    configure_logging(settings)
    settings.require_secret_key()  # sessions of several processes must share one key
    # SQLite in the instance folder unless DATABASE_URL says otherwise: sign-in, the
    # callback pages, /readyz and /metrics all use it. A schema that is behind is refused
    # now (exit 1: run `phoneservice db upgrade`); only db upgrade, run and demo migrate.
    settings = dataclasses.replace(settings, database_url=settings.database())
    found = services(args, settings, clock)  # ConfigError: exit 2, file:line
    found.connect()
    app = create_app(found)
    # Stopped escapes the server only when the signal came before its loop started.
    with stop_on_signals(), hot_reload(found.holder), contextlib.suppress(Stopped):
        bind(app, args.host, args.port, proxies=found.settings.proxies).run()
    return EXIT_OK


def run_services(args: argparse.Namespace, settings: Settings, clock: Clock) -> Services:
    """The services of ``run`` and ``demo``: the web and the worker on one database.

    SQLite in the instance folder unless DATABASE_URL is set, migrated by whichever part
    uses it first; without a key, sessions are signed with one kept in the instance
    folder, and served over plain HTTP on this machine, cookies cannot be Secure.
    """
    settings = dataclasses.replace(
        settings,
        database_url=settings.database(),
        secret_key=settings.instance_secret_key(),
        cookie_secure=bool(settings.cookie_secure),
    )
    return services(args, settings, clock, migrate=True)


def cmd_run(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Web + worker in one process until SIGTERM or SIGINT (or until the worker ends)."""
    configure_logging(settings)
    return serve_run(args, run_services(args, settings, clock))


def serve_run(
    args: argparse.Namespace, found: Services, ready: Callable[[], None] | None = None
) -> int:
    """Serve the web and host the worker; ``ready`` is called once the server is bound."""
    from phoneservice.web import create_app
    from phoneservice.web.server import Stopped, bind, stop_on_signals
    from phoneservice.worker.process import WorkerThread

    lock = found.leader_lock()  # a database without a leader lock is reported now
    app = create_app(found)
    worker = WorkerThread(found, lock)
    # Signals before the thread starts: it may stop the server by SIGTERM; SIGHUP reloads.
    with stop_on_signals(), hot_reload(found.holder):
        try:
            server = bind(app, args.host, args.port, proxies=found.settings.proxies)
            worker.start()
            if ready is not None:
                ready()
            server.run()
        except Stopped:
            pass
        finally:
            worker.stop(WORKER_STOP_TIMEOUT)
    return worker.code if worker.code is not None else EXIT_FAILURE
