"""gunicorn settings for ``phoneservice-pbx``: the PBX's own listener (docs/operations.md).

Installed as ``/etc/phoneservice/gunicorn-pbx.conf.py`` beside ``gunicorn.conf.py`` and
started as ``gunicorn --config /etc/phoneservice/gunicorn-pbx.conf.py``. Everything is
as for the staff web (that file is read first), except: its own loopback port, which
only nginx's PBX server block proxies to; its own workers, so a slow staff request can
never hold the processes the dialplan's ``CURL()`` waits for; an app that answers only
``open.txt``, the status and ``/healthz`` (``phoneservice.web.pbx_wsgi``); and a short
timeout, because the dialplan gives up after 2 s anyway.
"""

import os
import runpy

_staff = runpy.run_path(
    os.path.join(os.path.dirname(os.path.abspath(__file__)), "gunicorn.conf.py")
)
globals().update({k: v for k, v in _staff.items() if not k.startswith("_") and k != "os"})

wsgi_app = "phoneservice.web.pbx_wsgi:app"

# Loopback only: nginx's PBX server block (port 8081) proxies here, nothing else does.
bind = ["127.0.0.1:8001"]

# open.txt takes well under a millisecond: two sync workers answer thousands a second.
workers = int(os.environ.get("PBX_CONCURRENCY", "2"))
timeout = 10  # the dialplan waits 2 s; a request still running after 10 s is stuck
proc_name = "phoneservice-pbx"
