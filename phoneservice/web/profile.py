"""``/profile``: every signed-in person's own account, and "log out everywhere".

Read-only apart from the one button: names, role, units and the agent's device are
changed by an admin (``/admin``). Ending every session raises the user's session epoch,
so every cookie of theirs, this one included, stops working at once.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_login import logout_user

from phoneservice.settings import Settings
from phoneservice.web import SETTINGS, store
from phoneservice.web.auth import SIGNED_IN_AT, login_required, principal
from phoneservice.web.board.api import local_time, service

blueprint = Blueprint("profile", __name__)
NO_STORE = {"Cache-Control": "no-store"}


@blueprint.get("/profile")
@login_required
def profile_page() -> tuple[str, int, dict[str, str]]:
    """Name, role, units, device, this session's limits and the log-out-everywhere button."""
    user = principal().user
    settings: Settings = current_app.extensions[SETTINGS]
    hours = service()
    names = {unit.id: unit.name for unit in hours.units()}
    began = session.get(SIGNED_IN_AT)
    signed_in = datetime.fromtimestamp(began, UTC) if isinstance(began, int) else None
    page = render_template(
        "profile.html",
        user=user,
        units=sorted((names.get(u, u) for u in user.units) if user else ()),
        signed_in=local_time(signed_in),
        ends=local_time(signed_in + timedelta(hours=settings.session_hours) if signed_in else None),
        idle_minutes=settings.session_idle_minutes,
    )
    return page, 200, NO_STORE


@blueprint.post("/profile/logout-everywhere")
@login_required
def logout_everywhere() -> Any:
    """End every session of the signed-in person, on every device, this one too."""
    me = principal().actor
    store.accounts().end_sessions(me, actor=me, remote_addr=request.remote_addr)
    logout_user()
    session.clear()
    flash(_("Du er logget ud alle steder."), "notice:login")
    return redirect(url_for("auth.login"))
