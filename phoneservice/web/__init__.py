"""The web application: ``create_app`` builds it; nothing is built at import time."""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, Response, current_app, request
from werkzeug.middleware.proxy_fix import ProxyFix

from phoneservice import bootstrap
from phoneservice.bootstrap import Services
from phoneservice.registry import Registry
from phoneservice.registry.holder import RegistryHolder
from phoneservice.services.clock import Clock, system_clock
from phoneservice.settings import Settings, checked_secret_key

EXTENSION = "phoneservice"  # the hours service
SETTINGS = "phoneservice.settings"
SERVICES = "phoneservice.services"
# Machine-read paths get the strictest policy: they never load scripts, styles or frames.
_STRICT_PREFIXES = ("/api/", "/healthz", "/readyz")
_STRICT_CSP = "default-src 'none'; frame-ancestors 'none'"
# Pages load only their own script, style and images; no inline script anywhere (SPEC §11).
_PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)


def create_app(
    services: Services | Settings | None = None,
    *,
    registry: Registry | RegistryHolder | None = None,
    clock: Clock | None = None,
) -> Flask:
    """The Flask app over the process's services.

    Given settings (or nothing: the environment's), the services are built here, over
    ``registry`` or the file the settings name, loaded now (a bad file raises
    ``ConfigError``) and reloaded when it changes (docs/web.md, "Hot reload"); the schema
    is neither migrated nor checked (``/readyz`` shows what is missing).
    """
    if not isinstance(services, Services):
        settings = services if services is not None else Settings.from_env()
        clock = clock or system_clock
        services = bootstrap.build(settings, clock, registry=registry, check_schema=False)
    settings = services.settings
    if settings.oidc is not None:  # the role map's units must be the registry's
        from phoneservice.services.identity import check_role_map

        check_role_map(settings.oidc.role_map, services.registry.units)
    app = Flask(__name__)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]  # Danish names stay readable
    app.json.sort_keys = False  # type: ignore[attr-defined]  # fields in the SPEC's order
    app.extensions[SERVICES] = services
    app.extensions[EXTENSION] = services.hours
    app.extensions[SETTINGS] = settings
    _configure_sessions(app, settings)
    if settings.proxies:  # behind nginx: the client's address and scheme, not the proxy's
        hops = settings.proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    _register(app)
    return app


def _configure_sessions(app: Flask, settings: Settings) -> None:
    """Signed session cookies: HttpOnly, SameSite=Lax, Secure unless told otherwise."""
    # Without a key (tests, a bare create_app()) sessions last as long as the process.
    key = settings.secret_key
    app.config["SECRET_KEY"] = checked_secret_key(key) if key else secrets.token_hex(32)
    app.config["SESSION_COOKIE_NAME"] = "phoneservice_session"
    app.config["SESSION_COOKIE_SECURE"] = settings.cookie_secure is not False
    app.config["SESSION_COOKIE_HTTPONLY"] = True
    app.config["SESSION_COOKIE_SAMESITE"] = "Lax"
    # The cookie's own expiry; auth.session_holds enforces the limits (a poll re-issues it).
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=settings.session_hours)
    app.config["WTF_CSRF_TIME_LIMIT"] = None  # the token lives as long as the session
    app.config["WTF_CSRF_SSL_STRICT"] = settings.cookie_secure is not False


def _register(app: Flask) -> None:
    """Blueprints, the error mapping and the security headers."""
    from phoneservice.present.wording import tel_uri
    from phoneservice.web import auth, errors, i18n, inputs, oidc, profile
    from phoneservice.web.board import api, directory
    from phoneservice.web.board import pages as board
    from phoneservice.web.evaluation import pages as evaluation
    from phoneservice.web.ops import health, metrics
    from phoneservice.web.reports import pages as reports

    app.add_template_filter(tel_uri, "tel")
    app.config["MAX_CONTENT_LENGTH"] = inputs.MAX_CONTENT_LENGTH
    app.before_request(inputs.check_request)  # before login and CSRF read anything
    i18n.init(app)
    auth.init(app)
    app.register_blueprint(profile.blueprint)
    oidc.init(app)
    register_staff_pages(app)
    register_admin(app)
    app.register_blueprint(api.blueprint)
    app.register_blueprint(board.blueprint)
    app.register_blueprint(directory.blueprint)
    app.register_blueprint(health.blueprint)
    app.register_blueprint(metrics.blueprint)
    app.register_blueprint(reports.blueprint)
    app.register_blueprint(evaluation.blueprint)
    errors.register(app)
    app.after_request(_security_headers)


def register_staff_pages(app: Flask) -> None:
    """The callback queue and the authenticated API for calls and callbacks."""
    from phoneservice.web.callbacks import api as api_staff
    from phoneservice.web.callbacks import pages as callbacks

    app.register_blueprint(callbacks.blueprint)
    app.register_blueprint(api_staff.blueprint)


def register_admin(app: Flask) -> None:
    """``/admin`` (overrides, users, tokens, audit) and ``/api/v1/overrides``."""
    from phoneservice.web.admin import api as api_overrides
    from phoneservice.web.admin import pages as admin

    app.register_blueprint(admin.blueprint)
    app.register_blueprint(api_overrides.blueprint)


def _security_headers(response: Response) -> Response:
    """No MIME sniffing anywhere; no active content on API and health responses."""
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    strict = request.path.startswith(_STRICT_PREFIXES)
    response.headers.setdefault("Content-Security-Policy", _STRICT_CSP if strict else _PAGE_CSP)
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    return response
