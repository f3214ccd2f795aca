"""gunicorn settings for ``phoneservice-web`` (docs/operations.md).

Installed as ``/etc/phoneservice/gunicorn.conf.py`` and started as
``gunicorn --config /etc/phoneservice/gunicorn.conf.py``. nginx on the same host is the
only client; the app reads its own ``PHONESERVICE_*`` settings from the environment
when each worker imports ``phoneservice.web.wsgi``.
"""

import os

wsgi_app = "phoneservice.web.wsgi:app"

# Loopback only: nginx terminates TLS and proxies here. The container overrides this
# with --bind 0.0.0.0:8000 (deploy/Containerfile).
bind = ["127.0.0.1:8000"]

# The web is stateless: every worker serves every request. Two sync workers answer
# open.txt at over 4,000 req/s (docs/benchmarks.md); raise with WEB_CONCURRENCY.
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
worker_class = "sync"
timeout = 30  # a request still running after this is killed and its worker replaced
graceful_timeout = 20  # SIGTERM/SIGHUP: requests in progress get this long (unit: 30 s)
keepalive = 5  # nginx keeps upstream connections open (deploy/nginx/phoneservice.conf)
# A sync worker reads one request at a time: a client that sends half a request holds
# it until ``timeout`` kills it. nginx buffers each request whole before passing it on,
# so slow clients wait at nginx, never here; these bounds keep what reaches a worker small.
limit_request_line = 4094  # bytes in the request line (method, path, query)
limit_request_fields = 100  # header lines
limit_request_field_size = 8190  # bytes in one header line
# The app (and the registry) is loaded once, in the master, before the workers fork: a
# worker that starts later (after a crash, or at a reload) is a copy of a working app and
# cannot fail to boot over a broken file. Each worker then follows the file itself and
# keeps the registry it has when the new one does not load (docs/operations.md).
preload_app = True
# No max_requests: nothing leaks that a periodic restart would cure.

# Heartbeat files in memory, not on disk (gunicorn's advice for containers too). S108:
# gunicorn makes them with mkstemp and unlinks them at once; nobody else can open them.
worker_tmp_dir = "/dev/shm"  # noqa: S108

# nginx sets X-Forwarded-Proto; trust it from nginx on this host only. Under Compose the
# peer is the container network's gateway: compose.yaml sets FORWARDED_ALLOW_IPS=*.
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Errors to stderr (journald / container log); no access log: nginx keeps it, and one
# line per open.txt request from the PBX would drown everything else.
errorlog = "-"
accesslog = None
loglevel = "info"
capture_output = True  # a stray print() from a worker lands in the error log too

# systemd handles reload and stop; no control socket in $HOME (gunicorn >= 25.1).
control_socket_disable = True
proc_name = "phoneservice-web"
