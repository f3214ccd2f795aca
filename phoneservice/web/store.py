"""The app's services (built by :mod:`phoneservice.bootstrap`), as the views reach them.

Pages with personal data, the authenticated API and the admin use the database through
these accessors; the engine is the process's one pool, made on first use. The board and
the public API read only the manual overrides, through the hours service's cache.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app

from phoneservice.bootstrap import Services
from phoneservice.web import SERVICES

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from phoneservice.services.accounts import AccountService
    from phoneservice.services.audit import AuditService
    from phoneservice.services.callbacks import CallbackService
    from phoneservice.services.calls import CallService
    from phoneservice.services.evaluation import EvaluationService
    from phoneservice.services.identity import IdentityService
    from phoneservice.services.overrides import OverrideService
    from phoneservice.services.reports import ReportService
    from phoneservice.services.tokens import TokenService


def services() -> Services:
    """The services of the app in use."""
    found: Services = current_app.extensions[SERVICES]
    return found


def engine() -> Engine:
    """The process's one database engine (``/readyz`` probes it)."""
    return services().engine


def accounts() -> AccountService:
    """Accounts and sign-in."""
    return services().accounts


def tokens() -> TokenService:
    """API tokens."""
    return services().tokens


def identity() -> IdentityService:
    """Accounts of the people the identity provider signs in."""
    return services().identity


def audit() -> AuditService:
    """The audit log."""
    return services().audit


def callbacks() -> CallbackService:
    """The callback queue over the app's registry."""
    return services().callbacks


def calls() -> CallService:
    """The logged calls (read only: the web stores none)."""
    return services().calls


def overrides() -> OverrideService:
    """Manual overrides; a write drops this process's cached ones at once."""
    return services().overrides


def reports() -> ReportService:
    """The figures over the registry in use now."""
    return services().reports


def evaluations() -> EvaluationService:
    """The service evaluation over the registry in use now."""
    return services().evaluations
