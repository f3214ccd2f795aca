"""Liveness and readiness for the process supervisor and the load balancer.

Every request of the app also looks whether the registry file changed (at most every
2 s, one ``stat``), so a gunicorn worker reloads it without a thread of its own.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import text

from phoneservice.domain.pbx_state import PbxState
from phoneservice.services.monitoring import MonitoringService, is_stale
from phoneservice.settings import Settings
from phoneservice.web import EXTENSION, SETTINGS, store
from phoneservice.web.auth import request_allows

blueprint = Blueprint("health", __name__)

NO_STORE = {"Cache-Control": "no-store"}
MONITORING = "monitoring"  # the token scope that sees the details of /readyz


@blueprint.before_app_request
def reload_changed_registry() -> None:
    """Reload the registry if its file changed (a bad file keeps the one in use)."""
    current_app.extensions[EXTENSION].holder.check()


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int, dict[str, str]]:
    """The process is up and answering."""
    return jsonify(status="ok"), 200, NO_STORE


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int, dict[str, str]]:
    """Ready when the configured database answers; registry and AMI state are shown.

    A registry file that failed to reload does not make the process unready: it serves
    the registry loaded before, correctly. It makes it ``degraded``, as does a PBX that
    is not connected; neither is a reason to take the web out of the load balancer.

    The details name files, hosts and process ids: only a caller with the ``monitoring``
    scope (a token, or a signed-in admin) sees them; anyone else gets the two flags and
    the status code, which is all a load balancer needs.
    """
    config, database, registry = config_state(), database_state(), registry_state()
    ami = ami_state() if database["ok"] else {"ok": None, "pbx": []}
    ready = database["ok"] is not False
    degraded = not registry["ok"] or not all(p["connected"] for p in ami["pbx"])
    body: dict[str, Any] = {"ready": ready, "degraded": degraded}
    if details_allowed():
        body |= {"config": config, "registry": registry, "database": database, "ami": ami}
    return jsonify(body), 200 if ready else 503, NO_STORE


def details_allowed() -> bool:
    """Whether the caller may see what ``/readyz`` knows beyond ready and degraded."""
    return request_allows(MONITORING)


def config_state() -> dict[str, Any]:
    """The loaded registry: its file and how many units it holds."""
    registry = current_app.extensions[EXTENSION].registry
    return {"loaded": True, "path": registry.path, "units": len(registry.units)}


def registry_state() -> dict[str, Any]:
    """Whether the registry file loaded last time, when the one in use was, and the errors."""
    state = current_app.extensions[EXTENSION].holder.state()
    return {
        "ok": state.ok,
        "watched": state.path is not None,
        "loaded_at": _iso(state.loaded_at),
        "failed_at": _iso(state.failed_at),
        "errors": list(state.errors),
    }


def ami_state() -> dict[str, Any]:
    """Each PBX's AMI connection as the active worker last wrote it (``pbx_state``)."""
    try:
        states = monitoring().pbx_states()
    except Exception as exc:  # no table yet (not migrated), or the database went away
        current_app.logger.warning("readyz: cannot read pbx_state: %s", type(exc).__name__)
        return {"ok": False, "detail": type(exc).__name__, "pbx": []}
    now = current_app.extensions[EXTENSION].clock()
    return {"ok": True, "pbx": [pbx_shape(state, now) for state in states]}


def pbx_shape(state: PbxState, now: datetime) -> dict[str, Any]:
    """One PBX's row; a row its worker stopped refreshing counts as not connected."""
    stale = is_stale(state, now)
    last = state.last_event_at
    return {
        "pbx": state.pbx,
        "connected": state.connected and not stale,
        "stale": stale,
        "reconnects": state.reconnects,
        "last_event_at": _iso(last),
        "last_event_age_s": None if last is None else round((now - last).total_seconds(), 3),
        "updated_at": _iso(state.updated_at),
        "worker": state.worker,
    }


def _iso(moment: datetime | None) -> str | None:
    """An instant as ISO 8601 (UTC), or None."""
    return None if moment is None else moment.isoformat()


def database_state() -> dict[str, Any]:
    """Whether a configured database answers ``SELECT 1`` (``ok`` is null when none is)."""
    settings: Settings = current_app.extensions[SETTINGS]
    if not settings.database_url:
        return {"configured": False, "ok": None}
    try:
        with store.engine().connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means "not ready", never a 500
        current_app.logger.warning("readyz: database does not answer: %s", exc)
        return {"configured": True, "ok": False, "detail": type(exc).__name__}
    return {"configured": True, "ok": True}


def monitoring() -> MonitoringService:
    """The app's reader of counts and AMI state, on the process's engine (made once, kept)."""
    settings: Settings = current_app.extensions[SETTINGS]
    if not settings.database_url:
        raise LookupError("no database is configured")
    return store.services().monitoring(current_app.config.get("METRICS_CACHE_SECONDS"))
