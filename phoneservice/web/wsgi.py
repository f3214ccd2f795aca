"""The WSGI entry point for gunicorn: ``gunicorn -w 2 'phoneservice.web.wsgi:app'``.

This is the one module that builds the app when it is imported, on purpose: gunicorn
imports it in each worker process (or once in the master with ``--preload``) and serves
the module-level ``app``. Everything else builds the app by calling ``create_app()``;
nothing else in the package imports this module. The settings are read from the
environment (``PHONESERVICE_*``) at that import; a bad registry raises ``ConfigError``
there, whose message lists each problem as ``file:line``, and gunicorn stops with "Worker
failed to boot". Run ``phoneservice check-config`` before a deploy to see it sooner.
"""

from __future__ import annotations

from phoneservice.web import create_app

app = create_app()
