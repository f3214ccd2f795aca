"""The WSGI entry point of the PBX listener: ``open.txt`` and the status, nothing else.

``phoneservice-pbx`` (deploy/gunicorn-pbx.conf.py) serves this module's ``app`` on its
own loopback port with its own workers, so no staff request (a report, an export) can
occupy the processes the dialplan's ``CURL()`` waits for (docs/operations.md). It is the
app of :mod:`phoneservice.web.wsgi`, built the same way, behind a filter that answers
404 to every other path and 405 to every method but GET and HEAD. Its overrides are
read again in the background (``OverrideCache.background``): a database busy with
staff reports delays the refresh, never the answer.
"""

from __future__ import annotations

from phoneservice.web import SERVICES
from phoneservice.web.pbx_paths import pbx_only
from phoneservice.web.wsgi import app as _app

# open.txt answers from the overrides held while a stale set is read again behind it.
_app.extensions[SERVICES].override_cache.background = True
app = pbx_only(_app)
