"""The paths of the PBX listener, and the WSGI filter that lets only them through.

:mod:`phoneservice.web.pbx_wsgi` serves the app behind :func:`pbx_only` on the PBX's own
gunicorn (deploy/gunicorn-pbx.conf.py): ``open.txt``, the status and ``/healthz`` with
GET or HEAD; every other path is a 404 and every other method a 405, before Flask.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

# What the PBX (and its monitoring) may ask for on this listener.
PBX_PATHS = re.compile(
    r"/api/v1/units/[A-Za-z0-9_-]{1,64}/(open\.txt|status)|/api/v1/status|/healthz"
)
Start = Callable[..., Any]
WsgiApp = Callable[[dict[str, Any], Start], Iterable[bytes]]


def pbx_only(wrapped: WsgiApp) -> WsgiApp:
    """``wrapped`` for the PBX's paths and methods; a short plain-text refusal otherwise."""

    def app(environ: dict[str, Any], start_response: Start) -> Iterable[bytes]:
        if not PBX_PATHS.fullmatch(environ.get("PATH_INFO", "")):
            return _refuse(start_response, "404 Not Found")
        if environ.get("REQUEST_METHOD") not in ("GET", "HEAD"):
            return _refuse(start_response, "405 Method Not Allowed")
        return wrapped(environ, start_response)

    return app


def _refuse(start_response: Start, status: str) -> list[bytes]:
    """A plain-text answer with ``status`` and nothing else."""
    body = status.encode("ascii")
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
