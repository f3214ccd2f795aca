"""Sign-in and rights: Flask-Login sessions for staff, hashed tokens for integrations.

One :class:`Principal` stands for whoever asks (a person or a token), so every view asks
the same questions: may they use this scope, which units' numbers may they see, and
what name goes into the audit log.

A session (a signed cookie) holds the user's session epoch, when they signed in and when
they last did something. It ends when the epoch is raised (log out everywhere, a new
password, a change of rights), ``PHONESERVICE_SESSION_HOURS`` after sign-in, or
``PHONESERVICE_SESSION_IDLE_MINUTES`` after the last request that was not a background
poll (one sent with :data:`POLL_HEADER`). docs/security.md, "Sessions".
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext
from flask_login import LoginManager, UserMixin, current_user, login_user, logout_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from phoneservice.services.accounts import LoginThrottled, User
from phoneservice.services.tokens import Token
from phoneservice.settings import Settings
from phoneservice.web import SETTINGS, store
from phoneservice.web.errors import problem

blueprint = Blueprint("auth", __name__)
csrf = CSRFProtect()
View = TypeVar("View", bound=Callable[..., Any])
# What a signed-in person may do through the API, by role; tokens carry their own scopes.
ROLE_SCOPES = {
    "viewer": frozenset({"read-status"}),
    "agent": frozenset({"read-status", "callbacks"}),
    "admin": frozenset({"read-status", "callbacks", "overrides", "monitoring"}),
}
# What a session holds besides Flask-Login's user id: the epoch it began in, and when
# (UNIX seconds, by the services' clock) it began and last saw its person act.
EPOCH, SIGNED_IN_AT, SEEN_AT = "epoch", "signed_in_at", "seen_at"
# Sent by the pages' own refreshes (board.js, the callback queue): a poll is no activity.
POLL_HEADER = "X-Phoneservice-Poll"


class SignedIn(UserMixin):  # type: ignore[misc]
    """Flask-Login's view of a :class:`User`."""

    def __init__(self, user: User) -> None:
        self.user = user

    def get_id(self) -> str:
        """The id kept in the session cookie."""
        return str(self.user.id)


@dataclass(frozen=True, slots=True)
class Principal:
    """Whoever makes the request: a signed-in person or an API token."""

    actor: str
    scopes: frozenset[str]
    units: frozenset[str] | None  # None: every unit
    user: User | None = None

    def allows(self, scope: str) -> bool:
        """Whether the principal may use ``scope``."""
        return scope in self.scopes

    def serves(self, unit: str | None) -> bool:
        """Whether the principal may see the citizens' numbers of ``unit``."""
        if not self.allows("callbacks"):
            return False
        return self.units is None or (unit is not None and unit in self.units)

    @property
    def is_admin(self) -> bool:
        """Whether a signed-in admin makes the request."""
        return self.user is not None and self.user.is_admin


def person(user: User) -> Principal:
    """The principal of a signed-in person."""
    return Principal(user.username, ROLE_SCOPES[user.role], user.unit_scope(), user)


def integration(token: Token) -> Principal:
    """The principal of an API token."""
    return Principal(f"token:{token.name}", token.scopes, token.unit_scope())


def init(app: Flask) -> None:
    """Sessions, CSRF and the login routes on ``app``."""
    manager = LoginManager()
    manager.login_view = "auth.login"
    manager.login_message = None
    manager.user_loader(_load_user)
    manager.init_app(app)
    csrf.init_app(app)
    app.register_error_handler(CSRFError, on_csrf_error)
    app.register_blueprint(blueprint)
    app.context_processor(lambda: {"staff": staff(), "url_names": app.view_functions})


def _load_user(user_id: str) -> SignedIn | None:
    """The signed-in user of a session that still holds; a session that does not is emptied."""
    user = store.accounts().user(int(user_id)) if user_id.isdigit() else None
    now = _now()
    if user is None or not session_holds(user, now):
        session.clear()  # removed, disabled, signed out everywhere, too old or idle
        return None
    if request.headers.get(POLL_HEADER) != "1":
        session[SEEN_AT] = now
    return SignedIn(user)


def session_holds(user: User, now: int) -> bool:
    """Whether this request's session still holds for ``user`` at ``now``."""
    settings: Settings = current_app.extensions[SETTINGS]
    began, seen = session.get(SIGNED_IN_AT), session.get(SEEN_AT)
    if session.get(EPOCH) != user.session_epoch:
        return False
    if not isinstance(began, int) or not isinstance(seen, int):
        return False  # a session from before these limits: sign in again
    young = now - began < settings.session_hours * 3600
    return young and now - seen < settings.session_idle_minutes * 60


def _now() -> int:
    """The services' clock, in whole UNIX seconds (what a session keeps)."""
    return int(store.services().clock().timestamp())


def staff() -> User | None:
    """The signed-in person of this request, if any."""
    if current_user and current_user.is_authenticated:
        signed: SignedIn = current_user._get_current_object()
        return signed.user
    return None


def principal() -> Principal:
    """The principal established by :func:`login_required` or :func:`api_auth`."""
    found: Principal = g.principal
    return found


def login_required(view: View) -> View:
    """Pages: sign in first (redirect to ``/login``), then the view with ``g.principal``."""

    @functools.wraps(view)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        user = staff()
        if user is None:
            return _to_login()
        g.principal = person(user)
        return view(*args, **kwargs)

    return wrapped  # type: ignore[return-value]


def _to_login() -> Any:
    """To the sign-in form; from an htmx request, the whole page goes there (HX-Redirect)."""
    if request.headers.get("HX-Request") != "true":
        return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
    page = urlsplit(request.headers.get("HX-Current-URL", ""))
    target = _safe_next(page.path + (f"?{page.query}" if page.query else ""))
    return "", 401, {"HX-Redirect": url_for("auth.login", next=target)}


def role_required(*roles: str) -> Callable[[View], View]:
    """Pages for some roles only: 403 for the others."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            user = staff()
            if user is not None and user.role not in roles:
                abort(403)
            return view(*args, **kwargs)

        return login_required(wrapped)  # type: ignore[return-value]

    return decorate


def api_auth(scope: str) -> Callable[[View], View]:
    """API: a bearer token with ``scope``, or a signed-in person whose role has it."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            found = _api_principal()
            if found is None:
                return _unauthorized()
            if not found.allows(scope):
                return problem(403, "forbidden", f"this needs the {scope!r} right")
            g.principal = found
            return view(*args, **kwargs)

        return csrf.exempt(wrapped)  # type: ignore[no-any-return]

    return decorate


def _api_principal() -> Principal | None:
    """The token of the Authorization header, else the session (which must pass CSRF)."""
    header = request.headers.get("Authorization", "")
    if header:
        kind, _, secret = header.partition(" ")
        if kind.lower() != "bearer" or not secret.strip():
            return None
        token = store.tokens().verify_token(secret.strip())
        return integration(token) if token is not None else None
    user = staff()
    if user is None:
        return None
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        csrf.protect()  # a browser session writing through the API sends X-CSRFToken
    return person(user)


def request_allows(scope: str) -> bool:
    """Whether this request's token or signed-in person has ``scope``; False, never an error.

    For reads that show more to some callers (``/readyz``): no database, an unmigrated one
    or an unknown token all mean "anonymous".
    """
    try:
        found = _api_principal()
    except Exception:  # the token table cannot be read: nobody is known
        return False
    return found is not None and found.allows(scope)


def _unauthorized() -> tuple[Response, int, dict[str, str]]:
    """401 with the scheme to use."""
    body, status = problem(401, "unauthorized", "sign in or send 'Authorization: Bearer <token>'")
    return body, status, {"WWW-Authenticate": 'Bearer realm="phoneservice"'}


@blueprint.route("/login", methods=["GET", "POST"])
def login() -> Any:
    """The sign-in form; five failures in 15 minutes lock a username for a while."""
    target = _safe_next(request.values.get("next"))
    if request.method == "GET":
        return _login_page(target)
    username = request.form.get("username", "").strip()
    try:
        user = store.accounts().authenticate(
            username, request.form.get("password", ""), request.remote_addr or "unknown"
        )
    except LoginThrottled:
        return _login_page(target, error="throttled", username=username, status=429)
    if user is None:
        return _login_page(target, error="wrong", username=username, status=401)
    start_session(user)
    store.audit().audit(user.username, "login", user.username, remote_addr=request.remote_addr)
    return redirect(target or url_for("board.board_page"))


def start_session(user: User) -> None:
    """Sign ``user`` in on a fresh session (every way of signing in ends here)."""
    session.clear()  # nothing from before the sign-in survives it
    login_user(SignedIn(user))
    session.permanent = True
    session[EPOCH] = user.session_epoch
    session[SIGNED_IN_AT] = session[SEEN_AT] = _now()


@blueprint.post("/logout")
def logout() -> Any:
    """Sign out (a POST with the CSRF token: a link cannot sign anyone out).

    Signing out ends every session of the account: a copy of the cookie taken before
    (a shared PC, a saved browser profile) must not keep reading citizens' numbers.
    """
    user = staff()
    if user is not None:
        store.accounts().end_sessions(
            user.username, actor=user.username, remote_addr=request.remote_addr, action="logout"
        )
    logout_user()
    session.clear()
    return redirect(url_for("board.board_page"))


def _login_page(
    target: str | None, *, error: str | None = None, username: str = "", status: int = 200
) -> tuple[str, int, dict[str, str]]:
    """The sign-in form, with the reason it is shown again."""
    page = render_template("login.html", next=target, error=error, username=username)
    return page, status, {"Cache-Control": "no-store"}


def _safe_next(target: str | None) -> str | None:
    """A ``next`` that stays on this site (a path, no scheme, no host)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def on_csrf_error(exc: HTTPException) -> Any:
    """A refused form: the Danish page, or JSON under /api."""
    from phoneservice.web.errors import page, wants_page

    if wants_page():
        return page(
            400,
            gettext("Formularen er udløbet"),
            gettext("Indlæs siden igen og prøv en gang til."),
            detail=exc.description,
        )
    return problem(400, "csrf", exc.description or "CSRF token missing or invalid")
