"""The WSGI entry point for gunicorn: ``gunicorn -w 2 'phoneservice.web.wsgi:app'``.

This is the one module that builds the app when it is imported, on purpose: gunicorn
imports it in each worker process (or once in the master with ``--preload``) and serves
the module-level ``app``. Everything else builds the app by calling ``create_app()``;
only :mod:`phoneservice.web.pbx_wsgi` (the PBX listener) imports this module. The
settings are read from the environment (``PHONESERVICE_*``) at that import; a bad
registry raises ``ConfigError`` there, whose message lists each problem as
``file:line``, and gunicorn stops with "Worker failed to boot".
``PHONESERVICE_SECRET_KEY`` is required; the schema must be migrated first
(``phoneservice db upgrade``, as deploy/ does before gunicorn). Run ``phoneservice
check-config`` before a deploy to see it sooner.
"""

from __future__ import annotations

import dataclasses

from phoneservice import bootstrap, logs
from phoneservice.settings import Settings
from phoneservice.web import create_app

_settings = Settings.from_env()
# Without DATABASE_URL: the SQLite file in the instance folder, as `web` and `run` use.
_settings = dataclasses.replace(_settings, database_url=_settings.database())
_settings.require_secret_key()  # every gunicorn worker must sign sessions with one key
logs.configure(_settings.log_format, [_settings.ami_secret])  # the app's lines; see web.md
app = create_app(bootstrap.build(_settings, check_schema=False))  # migrated first: see above
