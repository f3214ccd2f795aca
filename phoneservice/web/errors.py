"""The one place where exceptions become HTTP responses."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from phoneservice.registry import UnknownUnitError

log = logging.getLogger(__name__)


class BadParameter(ValueError):
    """A query parameter that cannot be read; the message names it and its value."""


def register(app: Flask) -> None:
    """Map the web layer's exceptions to JSON responses on ``app``."""
    app.register_error_handler(BadParameter, on_bad_parameter)
    app.register_error_handler(UnknownUnitError, on_unknown_unit)
    app.register_error_handler(HTTPException, on_http_exception)
    app.register_error_handler(Exception, on_unexpected)


def problem(status: int, error: str, detail: str) -> tuple[Response, int]:
    """The JSON error body ``{"error": ..., "detail": ...}`` with its status."""
    return jsonify(error=error, detail=detail), status


def on_bad_parameter(exc: BadParameter) -> tuple[Response, int]:
    """400: the request's parameters are wrong."""
    return problem(400, "bad_request", str(exc))


def on_unknown_unit(exc: UnknownUnitError) -> tuple[Response, int]:
    """404: no unit has this id."""
    return problem(404, "unknown_unit", f"no unit with id {exc.args[0]!r}")


def on_http_exception(exc: HTTPException) -> Response | HTTPException:
    """Routing and protocol errors: JSON under /api, Flask's page elsewhere."""
    if not request.path.startswith("/api/"):
        return exc
    status = exc.code or 500
    response, _ = problem(status, _error_name(exc), exc.description or exc.name)
    response.status_code = status
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value  # keeps Allow on a 405
    return response


def on_unexpected(exc: Exception) -> tuple[Response, int]:
    """500: a bug; the traceback goes to the log, never into the body."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    return problem(500, "internal_error", "the server failed; the error is logged")


def _error_name(exc: HTTPException) -> str:
    """``Method Not Allowed`` as ``method_not_allowed``."""
    return exc.name.lower().replace(" ", "_").replace("-", "_")
