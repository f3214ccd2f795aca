"""Sign-in through the municipality's identity provider (OpenID Connect, docs/security.md).

Authorization code with PKCE (S256), state and nonce; Authlib fetches the provider's
discovery document and keys and verifies the ID token (signature, ``iss``, ``aud``,
``exp``, ``nonce``). What the person may do is decided by
:mod:`phoneservice.services.identity`; the session starts as for a password.
"""

from __future__ import annotations

import logging
from typing import Any

from authlib.integrations.base_client import MismatchingStateError, OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Blueprint, Flask, current_app, redirect, request, session, url_for
from flask_babel import gettext
from joserfc.errors import JoseError
from requests import RequestException

from phoneservice.services.identity import Identity, SignInRefused
from phoneservice.settings import OidcSettings
from phoneservice.web import SETTINGS, auth, store
from phoneservice.web.errors import page

blueprint = Blueprint("oidc", __name__)
log = logging.getLogger(__name__)
CLIENT = "municipality"  # the provider's name in Authlib's registry
NEXT = "oidc_next"  # the page to return to, kept in the session during the round trip
SCOPE = "openid profile email"
TIMEOUT_SECONDS = 10  # discovery, keys and the token request
# Failures of the round trip: the provider's answer, the token's checks, the network.
FAILURES = (OAuthError, JoseError, RequestException, KeyError, ValueError)


def init(app: Flask) -> None:
    """The provider's routes and the login page's button, when the settings name one."""
    oidc: OidcSettings | None = app.extensions[SETTINGS].oidc
    if oidc is None:
        return
    oauth = OAuth(app)
    oauth.register(
        CLIENT,
        client_id=oidc.client_id,
        client_secret=oidc.client_secret,
        server_metadata_url=oidc.discovery_url,
        client_kwargs={
            "scope": SCOPE,
            "code_challenge_method": "S256",
            "default_timeout": TIMEOUT_SECONDS,
        },
    )
    app.register_blueprint(blueprint)
    app.context_processor(lambda: {"oidc_login": True})


def _settings() -> OidcSettings:
    """The identity provider's settings (set, or these routes would not exist)."""
    oidc: OidcSettings = current_app.extensions[SETTINGS].oidc
    return oidc


def _client() -> Any:
    """Authlib's client of the provider."""
    return current_app.extensions["authlib.integrations.flask_client"].create_client(CLIENT)


@blueprint.get("/login/oidc")
def start() -> Any:
    """Send the browser to the provider, with state, nonce and a PKCE challenge."""
    target = auth._safe_next(request.args.get("next"))  # the one rule for where to go next
    try:
        response = _client().authorize_redirect(url_for("oidc.callback", _external=True))
    except FAILURES as exc:
        log.warning("identity provider unreachable: %s", type(exc).__name__)
        return _unavailable()
    session[NEXT] = target
    return response


@blueprint.get("/login/oidc/callback")
def callback() -> Any:
    """Back from the provider: verify, map the groups, sign in (or say why not)."""
    try:
        claims = _verified_claims()
    except MismatchingStateError:
        log.warning("identity provider sign-in refused: unknown or reused state")
        return _failed()
    except FAILURES as exc:
        log.warning("identity provider sign-in refused: %s: %s", type(exc).__name__, exc)
        return _failed()
    try:
        user = store.identity().sign_in(
            _identity(claims), _settings().role_map, request.remote_addr
        )
    except SignInRefused as exc:
        log.warning("identity provider sign-in refused: %s", exc.reason)
        return _refused(exc.reason)
    target = session.pop(NEXT, None)
    auth.start_session(user)
    return redirect(target or url_for("board.board_page"))


def _verified_claims() -> dict[str, Any]:
    """The ID token's claims after every check; an error of :data:`FAILURES` otherwise."""
    oidc = _settings()
    token = _client().authorize_access_token(  # Authlib checks "aud" only when told to
        claims_options={
            "iss": {"essential": True, "values": [oidc.issuer]},
            "aud": {"essential": True, "values": [oidc.client_id]},
        }
    )
    claims = token.get("userinfo")
    if not claims:
        raise ValueError("the provider sent no ID token")
    return dict(claims)


def _identity(claims: dict[str, Any]) -> Identity:
    """The person the claims describe, with the groups of the configured claim."""
    groups = claims.get(_settings().groups_claim) or []
    if isinstance(groups, str):  # AD FS sends one group as a plain string
        groups = [groups]
    return Identity(
        issuer=str(claims["iss"]),
        subject=str(claims["sub"]),
        username=claims.get("preferred_username") or claims.get("email") or claims.get("upn"),
        display_name=claims.get("name"),
        groups=frozenset(str(group) for group in groups),
    )


def _failed() -> tuple[str, int, dict[str, str]]:
    """400: the round trip could not be verified; start again from the login page."""
    body, status = page(
        400,
        gettext("Login mislykkedes"),
        gettext("Kommunens login kunne ikke bekræfte dig. Prøv igen fra login-siden."),
    )
    return body, status, {"Cache-Control": "no-store"}


def _unavailable() -> tuple[str, int, dict[str, str]]:
    """502: the provider does not answer."""
    body, status = page(
        502,
        gettext("Kommunens login svarer ikke"),
        gettext("Prøv igen om lidt. Administratorer kan logge ind med en lokal konto."),
    )
    return body, status, {"Cache-Control": "no-store"}


def _refused(reason: str) -> tuple[str, int, dict[str, str]]:
    """403: the provider knows the person, but they have no access here."""
    if reason == "disabled":
        text = gettext("Din konto i telefonservice er lukket. Kontakt en administrator.")
    elif reason == "name_taken":
        text = gettext("Der kunne ikke laves en konto til dig. Kontakt en administrator.")
    else:
        text = gettext(
            "Din bruger i kommunens login er ikke med i en gruppe, der giver adgang til "
            "telefonservice. Bed din leder eller IT om at blive tilføjet til den rette gruppe."
        )
    body, status = page(403, gettext("Ingen adgang til telefonservice"), text)
    return body, status, {"Cache-Control": "no-store"}
