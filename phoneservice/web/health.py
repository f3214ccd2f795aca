"""Liveness and readiness for the process supervisor and the load balancer."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, jsonify
from sqlalchemy import Engine, text

from phoneservice.settings import Settings
from phoneservice.storage.engine import create_engine_for
from phoneservice.web import EXTENSION, SETTINGS

blueprint = Blueprint("health", __name__)

NO_STORE = {"Cache-Control": "no-store"}
ENGINE = "phoneservice.health_engine"


@blueprint.get("/healthz")
def healthz() -> tuple[Response, int, dict[str, str]]:
    """The process is up and answering."""
    return jsonify(status="ok"), 200, NO_STORE


@blueprint.get("/readyz")
def readyz() -> tuple[Response, int, dict[str, str]]:
    """Ready when the registry is loaded and the configured database answers."""
    config, database = config_state(), database_state()
    ready = database["ok"] is not False
    body = {"ready": ready, "config": config, "database": database}
    return jsonify(body), 200 if ready else 503, NO_STORE


def config_state() -> dict[str, Any]:
    """The loaded registry: its file and how many units it holds."""
    registry = current_app.extensions[EXTENSION].registry
    return {"loaded": True, "path": registry.path, "units": len(registry.units)}


def database_state() -> dict[str, Any]:
    """Whether a configured database answers ``SELECT 1`` (``ok`` is null when none is)."""
    settings: Settings = current_app.extensions[SETTINGS]
    if not settings.database_url:
        return {"configured": False, "ok": None}
    try:
        with engine(settings.database_url).connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as exc:  # any failure to connect means "not ready", never a 500
        current_app.logger.warning("readyz: database does not answer: %s", exc)
        return {"configured": True, "ok": False, "detail": type(exc).__name__}
    return {"configured": True, "ok": True}


def engine(url: str) -> Engine:
    """The app's one probe engine, made on the first readiness check and kept."""
    found: Engine | None = current_app.extensions.get(ENGINE)
    if found is None:
        found = current_app.extensions[ENGINE] = create_engine_for(url)
    return found
