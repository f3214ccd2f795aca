"""The production app of ``phoneservice.web.wsgi`` plus a hello-world route, for bench/http_load.py.

gunicorn serves this module so that ``open.txt`` and the reference route run in the same
processes, the same Flask app and the same hooks (security headers, error mapping):
``/bench/hello`` answers ``hello`` as ``text/plain`` and does nothing else.
"""

from __future__ import annotations

from phoneservice.web.wsgi import app

HELLO = "/bench/hello"


def hello() -> tuple[str, int, dict[str, str]]:
    """The reference: the least a Flask route can do."""
    return "hello", 200, {"Content-Type": "text/plain; charset=utf-8"}


app.add_url_rule(HELLO, "bench_hello", hello)
