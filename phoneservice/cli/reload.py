"""Hot reload of the registry in ``web``, ``run``, ``demo`` and ``worker`` (SPEC §10).

While :func:`hot_reload` is entered, a daemon thread looks at the registry file every
``holder.poll`` seconds (its size, mtime and inode) and reloads it when it changed, and
``SIGHUP`` reloads it at once, changed or not (``systemctl reload``). A file that does not
load keeps the registry in use; see :mod:`phoneservice.registry.holder`.
"""

from __future__ import annotations

import contextlib
import logging
import signal
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from phoneservice.registry.holder import RegistryHolder

_log = logging.getLogger("phoneservice.registry")


@contextlib.contextmanager
def hot_reload(holder: RegistryHolder) -> Iterator[None]:
    """While inside: poll the file in a daemon thread; SIGHUP reloads (main thread only)."""
    stop, wake = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=_watch, args=(holder, stop, wake), name="registry-reload", daemon=True
    )

    def on_hup(signum: int, frame: FrameType | None) -> None:
        holder.request_reload()
        wake.set()

    previous = _install(on_hup)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        wake.set()
        if previous is not None:
            signal.signal(signal.SIGHUP, previous)
        thread.join(timeout=5)


def _watch(holder: RegistryHolder, stop: threading.Event, wake: threading.Event) -> None:
    """Check the file every ``poll`` seconds, or at once when woken by SIGHUP."""
    while not stop.is_set():
        wake.wait(holder.poll)
        wake.clear()
        if stop.is_set():
            return
        try:
            holder.check()
        except Exception:  # a bug in a reload must not end the watching
            _log.exception("registry reload failed unexpectedly; the registry in use is kept")


def _install(handler: Callable[[int, FrameType | None], None]) -> Any:
    """Install the SIGHUP handler; None where there is no SIGHUP or not in the main thread."""
    if not hasattr(signal, "SIGHUP") or threading.current_thread() is not threading.main_thread():
        return None
    return signal.signal(signal.SIGHUP, handler)
