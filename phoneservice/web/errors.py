"""The one place where exceptions become HTTP responses."""

from __future__ import annotations

import logging

from flask import Flask, Response, jsonify, render_template, request
from werkzeug.exceptions import HTTPException

from phoneservice.domain.callbacks.originate import DeviceRefused
from phoneservice.domain.callbacks.rules import (
    CallbackError,
    CallInFlight,
    ClaimConflict,
    InvalidTransition,
)
from phoneservice.registry import UnknownUnitError
from phoneservice.services.callbacks import CallbackNotFound, NoDevice, UnitClosed
from phoneservice.web.i18n import words

log = logging.getLogger(__name__)


class BadParameter(ValueError):
    """A query parameter that cannot be read; the message names it and its value."""


class UnreadableInput(BadParameter):
    """Input no route can use (NUL, lone surrogates, deep JSON); names where, not the value."""


Answer = tuple[Response | str, int]
# Why the callback rules refused an action, by the exception's class (most specific first).
REFUSALS: tuple[tuple[type[CallbackError], str], ...] = (
    (UnitClosed, "unit_closed"),
    (NoDevice, "no_device"),
    (DeviceRefused, "device_refused"),
    (ClaimConflict, "claimed"),
    (CallInFlight, "call_in_flight"),
    (InvalidTransition, "invalid_transition"),
)


def register(app: Flask) -> None:
    """Map the web layer's exceptions to JSON under /api and Danish pages elsewhere."""
    app.register_error_handler(UnreadableInput, on_unreadable_input)
    app.register_error_handler(BadParameter, on_bad_parameter)
    app.register_error_handler(UnknownUnitError, on_unknown_unit)
    app.register_error_handler(CallbackNotFound, on_callback_not_found)
    app.register_error_handler(CallbackError, on_callback_refused)
    app.register_error_handler(HTTPException, on_http_exception)
    app.register_error_handler(Exception, on_unexpected)


def problem(status: int, error: str, detail: str) -> tuple[Response, int]:
    """The JSON error body ``{"error": ..., "detail": ...}`` with its status."""
    return jsonify(error=error, detail=detail), status


def page(status: int, title: str, text: str, detail: str | None = None) -> tuple[str, int]:
    """The Danish HTML error page with its status."""
    body = render_template("error.html", status=status, title=title, text=text, detail=detail)
    return body, status


def wants_page() -> bool:
    """Whether the error belongs to an HTML page (everything outside ``/api/``)."""
    return not request.path.startswith("/api/")


def on_bad_parameter(exc: BadParameter) -> Answer:
    """400: the request's parameters are wrong."""
    if wants_page():
        return page(400, *words().error(400), detail=str(exc))
    return problem(400, "bad_request", str(exc))


def on_unreadable_input(exc: UnreadableInput) -> Answer:
    """400: input no route can use; pages say so in Danish without echoing the input."""
    if wants_page():
        return page(400, *words().unreadable())
    return problem(400, "bad_request", str(exc))


def on_unknown_unit(exc: UnknownUnitError) -> Answer:
    """404: no unit has this id."""
    if wants_page():
        return page(404, *words().unknown_unit(str(exc.args[0])))
    return problem(404, "unknown_unit", f"no unit with id {exc.args[0]!r}")


def on_callback_not_found(exc: CallbackNotFound) -> Answer:
    """404: no such task, or one outside the principal's units (not revealed)."""
    if wants_page():
        return page(404, *words().error(404))
    return problem(404, "not_found", str(exc.args[0]))


def on_callback_refused(exc: CallbackError) -> Answer:
    """409: the task's state or another's claim refuses the action."""
    if wants_page():
        return page(409, *words().error(409), detail=str(exc))
    return problem(409, refusal(exc), str(exc))


def refusal(exc: CallbackError) -> str:
    """Why the rules refused an action: ``claimed``, ``unit_closed``, ... or ``refused``."""
    for kind, name in REFUSALS:
        if isinstance(exc, kind):
            return name
    return "refused"


def on_http_exception(exc: HTTPException) -> Response | Answer:
    """Routing and protocol errors: JSON under /api, a Danish page elsewhere."""
    status = exc.code or 500
    if wants_page():
        body, _ = page(status, *words().error(status))
        return _with_headers(Response(body, status, mimetype="text/html"), exc)
    return _with_headers(problem(status, _error_name(exc), exc.description or exc.name)[0], exc)


def _with_headers(response: Response, exc: HTTPException) -> Response:
    """``response`` with the exception's status and headers (keeps Allow on a 405)."""
    response.status_code = exc.code or 500
    for name, value in exc.get_headers():
        if name.lower() != "content-type":
            response.headers[name] = value
    return response


def on_unexpected(exc: Exception) -> Answer:
    """500: a bug; the traceback goes to the log, never into the body."""
    log.exception("unhandled error on %s %s", request.method, request.path, exc_info=exc)
    if wants_page():
        return page(500, *words().error(500))
    return problem(500, "internal_error", "the server failed; the error is logged")


def _error_name(exc: HTTPException) -> str:
    """``Method Not Allowed`` as ``method_not_allowed``."""
    return exc.name.lower().replace(" ", "_").replace("-", "_")
