"""``/admin``: manual overrides, users, API tokens and the audit log, for admins only.

Every change is a form POST with the CSRF token, answered by a redirect to its section
with a notice (the page works without JavaScript). Refusals become Danish notices,
never error pages. Overrides are for admins only, as in the API (docs/web.md says why).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from werkzeug.wrappers import Response

from phoneservice.domain.accounts import ROLES
from phoneservice.registry import UnknownUnitError
from phoneservice.services.accounts import MAX_FAILURES_PER_USER, AccountError, User
from phoneservice.services.freshness import RUN_OUT_DAYS
from phoneservice.services.overrides import MAX_ID, OverrideError
from phoneservice.services.tokens import SCOPES
from phoneservice.web import store
from phoneservice.web.admin import forms
from phoneservice.web.admin.forms import FormError
from phoneservice.web.auth import principal, role_required
from phoneservice.web.board.api import local_time, service
from phoneservice.web.i18n import words

blueprint = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_LIMIT = 200
NO_STORE = {"Cache-Control": "no-store"}
Page = tuple[str, int, dict[str, str]]
Action = Callable[..., str]


def form_action(anchor: str) -> Callable[[Action], Callable[..., Response]]:
    """Run a form's action; back to its section with the notice it returns, or the refusal."""

    def decorate(action: Action) -> Callable[..., Response]:
        @functools.wraps(action)
        def wrapped(*args: Any, **kwargs: Any) -> Response:
            try:
                flash(action(*args, **kwargs), f"notice:{anchor}")
            except (FormError, OverrideError, AccountError, UnknownUnitError) as exc:
                flash(refusal(exc), f"alert:{anchor}")
            return redirect(url_for("admin.admin_page", _anchor=anchor))

        return wrapped

    return decorate


def refusal(exc: Exception) -> str:
    """The notice for a refused form."""
    if isinstance(exc, OverrideError):
        return forms.override_notice(exc)
    if isinstance(exc, AccountError):
        return forms.account_notice(exc)
    if isinstance(exc, UnknownUnitError):
        return str(_l("Vælg en enhed fra listen."))
    return str(exc)


@blueprint.get("")
@role_required("admin")
def admin_page() -> Page:
    """The five sections; ``?actor=`` filters the audit log."""
    actor = request.args.get("actor", "").strip()
    accounts, overrides, hours = store.accounts(), store.overrides(), service()
    units = hours.units()
    active = overrides.active()
    page = render_template(
        "admin.html",
        units=units,
        names={unit.id: unit.name for unit in units},
        active=active,
        over=[r for r in overrides.recent() if r not in active],
        looks=hours.needs_look(),
        today=hours.today(),
        verify_after_days=hours.registry.verify_after_days,
        run_out_days=RUN_OUT_DAYS,
        users=accounts.users(),
        tokens=store.tokens().tokens(),
        audit=store.audit().audit_log(actor=actor or None, limit=AUDIT_LIMIT),
        actor=actor,
        scopes=SCOPES,
        roles=ROLES,
        codes=_codes(),
        local=local_time,
    )
    return page, 200, NO_STORE


@blueprint.post("/overrides")
@role_required("admin")
@form_action("overrides")
def create_override() -> str:
    """Close (or open) a unit from now until the chosen end."""
    form, hours = request.form, service()
    unit = hours.registry.unit(form.get("unit", ""))
    record = store.overrides().create(
        unit.id,
        open=form.get("action") == "open",
        reason=forms.reason(form),
        until=forms.override_until(form, hours.now()),
        author=principal().actor,
    )
    until = words().when(record.end, hours.now())
    if record.open:
        return str(_("%(unit)s har nu åbent til %(until)s.", unit=unit.name, until=until))
    return str(_("%(unit)s er nu lukket til %(until)s.", unit=unit.name, until=until))


@blueprint.post("/overrides/<int:override_id>/end")
@role_required("admin")
@form_action("overrides")
def end_override(override_id: int) -> str:
    """End an override now."""
    record = store.overrides().end(override_id, actor=principal().actor)
    name = service().registry.units.get(record.unit)
    return str(_("Ændringen for %(unit)s er afsluttet.", unit=name.name if name else record.unit))


@blueprint.post("/users")
@role_required("admin")
@form_action("users")
def add_user() -> str:
    """Create an account with an initial password."""
    form = request.form
    user = store.accounts().add_user(
        form.get("username", ""),
        form.get("password", ""),
        forms.role(form.get("role")),
        display_name=form.get("display_name") or None,
        units=forms.units(form.get("units", ""), service().registry.units),
        actor=principal().actor,
    )
    return str(_("Brugeren %(name)s er oprettet.", name=user.username))


@blueprint.get("/users/<username>")
@role_required("admin")
def user_page(username: str) -> Page | Response:
    """One account: role, units, active, and a new password."""
    user = find_user(username)
    if user is None:
        flash(_("Brugeren findes ikke."), "alert:users")
        return redirect(url_for("admin.admin_page", _anchor="users"))
    page = render_template(
        "admin_user.html",
        user=user,
        roles=ROLES,
        codes=_codes(),
        units=service().units(),
        device_pattern=store.accounts().device_pattern().pattern,
        failures=store.accounts().failed_logins(user.username),
        locked_at=MAX_FAILURES_PER_USER,
    )
    return page, 200, NO_STORE


def find_user(username: str) -> User | None:
    """The account named ``username`` in any case, active or not."""
    folded = username.strip().lower()
    return next((u for u in store.accounts().users() if u.username == folded), None)


@blueprint.post("/users/<username>")
@role_required("admin")
@form_action("users")
def update_user(username: str) -> str:
    """Change role, units and whether the account may sign in."""
    form, me = request.form, principal().actor
    username = username.strip().lower()  # as the account service folds it: IDA is ida
    chosen, active = forms.role(form.get("role")), form.get("active") == "on"
    if username == me.lower() and (chosen != "admin" or not active):
        raise FormError(_("Du kan ikke fjerne din egen administratorrolle eller spærre dig selv."))
    units = forms.units(form.get("units", ""), service().registry.units)
    store.accounts().update_user(username, role=chosen, units=units, active=active, actor=me)
    return str(_("Brugeren %(name)s er ændret.", name=username))


@blueprint.post("/users/<username>/device")
@role_required("admin")
@form_action("users")
def set_device(username: str) -> str:
    """Set the agent's own phone, the one »Ring op« rings first (empty: none)."""
    device = request.form.get("device", "")
    user = store.accounts().set_device(
        username, device, actor=principal().actor, remote_addr=request.remote_addr
    )
    if user.agent_device is None:
        return str(_("Brugeren %(name)s har ingen telefon nu.", name=user.username))
    return str(
        _(
            "Brugeren %(name)s har fået telefonen %(device)s.",
            name=user.username,
            device=user.agent_device,
        )
    )


@blueprint.post("/users/<username>/password")
@role_required("admin")
@form_action("users")
def set_password(username: str) -> str:
    """Give an account a new password."""
    password = request.form.get("password", "")
    store.accounts().set_password(username, password, actor=principal().actor)
    name = username.strip().lower()
    return str(_("Brugeren %(name)s har fået en ny adgangskode.", name=name))


@blueprint.post("/users/<username>/unlock")
@role_required("admin")
@form_action("users")
def unlock_user(username: str) -> str:
    """Forget the account's failed sign-ins of the last 15 minutes: its lock lifts."""
    me = principal().actor
    cleared = store.accounts().unlock(username, actor=me, remote_addr=request.remote_addr)
    name = username.strip().lower()
    return str(
        _("Brugeren %(name)s er låst op (%(count)s forsøg glemt).", name=name, count=cleared)
    )


@blueprint.post("/tokens")
@role_required("admin")
def issue_token() -> Page | Response:
    """Issue a token and show its secret this once."""
    form = request.form
    try:
        units = forms.units(form.get("units", ""), service().registry.units)
        token, secret = store.tokens().issue_token(
            form.get("name", ""),
            forms.scopes(form.getlist("scopes")),
            units=units or None,
            actor=principal().actor,
        )
    except (FormError, AccountError) as exc:
        flash(refusal(exc), "alert:tokens")
        return redirect(url_for("admin.admin_page", _anchor="tokens"))
    page = render_template("admin_token.html", token=token, secret=secret)
    return page, 200, NO_STORE


@blueprint.post("/tokens/<int:token_id>/revoke")
@role_required("admin")
@form_action("tokens")
def revoke_token(token_id: int) -> str:
    """Revoke a token: it stops working at once."""
    if token_id > MAX_ID:
        raise FormError(_("Nøglen findes ikke."))
    store.tokens().revoke_token(token_id, actor=principal().actor)
    return str(_("Nøglen er tilbagekaldt."))


def _codes() -> dict[str, str]:
    """The words the page shows for role and token scope codes (the codes stay the values)."""
    return {
        "viewer": _("Læser"),
        "agent": _("Tilbagekalder"),
        "admin": _("Administrator"),
        "read-status": _("Læse telefontider"),
        "callbacks": _("Tilbagekald"),
        "overrides": _("Ændre åbent/lukket"),
        "monitoring": _("Overvågning"),
    }
