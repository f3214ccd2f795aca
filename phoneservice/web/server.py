"""The HTTP server of ``phoneservice web`` and ``phoneservice run``: one process, waitress.

One process serves with waitress: a production-grade, pure-Python WSGI server (an
asyncore main loop that reads and writes the sockets, and a pool of threads that run the
app), with no C extension and no fork. Werkzeug's server is the debugging server Flask
warns against in production; gunicorn forks workers and owns its signals and its main
loop, so it cannot share a process with the worker's thread in ``run``.

A larger deployment runs gunicorn instead, with several processes over the module-level
app of :mod:`phoneservice.web.wsgi` (see docs/worker.md)::

    gunicorn -w 2 -b 127.0.0.1:8000 'phoneservice.web.wsgi:app'
"""

from __future__ import annotations

import contextlib
import logging
import signal
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from waitress.server import create_server

_log = logging.getLogger("phoneservice.web")

THREADS = 8  # app threads: requests are short and mostly CPU, a few may wait on the database
# Connections, not threads, are what slow clients hold: waitress reads a request in its
# main loop and hands it to a thread only once complete, so a client that sends half a
# request line costs one socket. Past CONNECTION_LIMIT waitress stops accepting until one
# closes (its default, 100, let 110 idle sockets lock everyone out); an idle connection
# is closed after CHANNEL_TIMEOUT seconds, looked for every CLEANUP_INTERVAL seconds.
LIMITS: dict[str, Any] = {
    "connection_limit": 1000,
    "backlog": 1024,
    "channel_timeout": 30,
    "cleanup_interval": 10,
    "asyncore_use_poll": True,  # select() fails past 1024 descriptors; poll() does not
}
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class Stopped(SystemExit):
    """Raised in the main thread by SIGTERM or SIGINT; waitress ends its loop on it."""


class Server:
    """A bound (listening) server; :meth:`run` serves until a stop signal."""

    def __init__(
        self, app: Callable[..., Any], host: str, port: int, threads: int, proxies: int = 0
    ) -> None:
        # Binding now (not in run) reports a port in use before anything else starts.
        self._server: Any = create_server(
            app,
            host=host,
            port=port,
            threads=threads,
            ident="phoneservice",
            # Without a trusted proxy X-Forwarded-* from a client is dropped here. Behind
            # PHONESERVICE_PROXIES proxies the headers reach the app, whose ProxyFix takes
            # that many hops from the right (create_app), as under gunicorn.
            clear_untrusted_proxy_headers=not proxies,
            **LIMITS,
        )
        # Port 0 binds a free port: the one chosen (one socket; several keep the asked one).
        self.host, self.port = host, int(getattr(self._server, "effective_port", port))

    def run(self) -> None:
        """Serve until :class:`Stopped` (a signal, see :func:`stop_on_signals`); then close.

        Waitress catches the exception in its loop, stops its threads (requests in
        progress get up to 5 s) and returns; the listening socket is closed here.
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        _log.info("serving HTTP on http://%s:%d", host, self.port)
        try:
            self._server.run()
        finally:
            self._server.close()
            _log.info("HTTP server stopped")


@contextlib.contextmanager
def stop_on_signals() -> Iterator[None]:
    """While inside: SIGTERM and SIGINT raise :class:`Stopped` (exit code 0) in the main thread.

    Only the first signal raises; a second one while shutting down is ignored. The
    previous handlers come back on leaving.
    """
    previous = {sig: signal.getsignal(sig) for sig in STOP_SIGNALS}
    fired = False

    def handler(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        _log.info("%s: stopping", signal.Signals(signum).name)
        raise Stopped(0)

    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def bind(
    app: Callable[..., Any], host: str, port: int, threads: int = THREADS, *, proxies: int = 0
) -> Server:
    """A waitress server for ``app``, already listening on ``host:port``.

    ``proxies`` is ``PHONESERVICE_PROXIES``: when set, forwarded headers are kept for the
    app's ProxyFix (which trusts exactly that many hops); when 0 waitress drops them.
    """
    return Server(app, host, port, threads, proxies)
