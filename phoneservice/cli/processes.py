"""The long-running processes: ``worker`` (leader lock, scheduler and AMI connections).

The work itself is :mod:`phoneservice.worker.process`; this module parses, builds the
services and hands them over.
"""

from __future__ import annotations

import argparse
import logging
from datetime import tzinfo
from typing import Any

from phoneservice import logs
from phoneservice.cli.common import Clock, common_options, services
from phoneservice.cli.reload import hot_reload
from phoneservice.settings import Settings


def register(commands: Any) -> None:
    """Add the process commands to the parser."""
    worker = commands.add_parser(
        "worker",
        parents=[common_options(data=False)],
    )
    worker.set_defaults(run=cmd_worker)


def configure_logging(settings: Settings, zone: tzinfo | None = None) -> None:
    """Log to stderr as ``PHONESERVICE_LOG_FORMAT`` says; the AMI secret is masked if it shows.

    Text lines carry their time in ``zone`` (the machine's when None), with the offset.
    """
    logs.configure(settings.log_format, [settings.ami_secret], zone=zone)


def serve_metrics(host: str, port: int) -> None:
    """Serve this worker's own Prometheus metrics (a thread): what it holds in memory, such
    as calls waiting for the database, shows even while the database is away."""
    from prometheus_client import start_http_server

    start_http_server(port, addr=host)
    logging.getLogger(__name__).info("worker metrics on http://%s:%d/metrics", host, port)


def cmd_worker(args: argparse.Namespace, settings: Settings, clock: Clock) -> int:
    """Wait for the leader lock, then run the scheduler and follow every PBX until a signal."""
    import asyncio

    from phoneservice.worker import process

    configure_logging(settings)
    if settings.worker_metrics is not None:  # the outage and AMI figures of this process
        serve_metrics(*settings.worker_metrics)
    # A schema that is behind is refused at start, standby or not (exit 1; systemd runs
    # phoneservice-migrate before each restart): only db upgrade, run and demo migrate.
    found = services(args, settings, clock)
    found.connect()
    lock = found.leader_lock()  # a database without a leader lock is reported now
    with hot_reload(found.holder):  # SIGHUP or a changed file: see cli/reload.py
        return asyncio.run(process.serve(found, lock))
