"""A WSGI app for ``httpx.WSGITransport`` that calls this same Django process.

Used when a context is bound "remote" but served in-process (the test mode
``SHOP_REMOTE_CONTEXTS``). Like Django's test client, it keeps the request signals from
closing the caller's database connection, so the call runs inside the caller's test transaction.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections

# Calls nest (a remote-bound context calling another one in-process): only the outermost call may
# reconnect the signal, or the outer request's end would close the connection mid-transaction.
_depth = 0
_depth_lock = threading.Lock()


def _enter() -> None:
    global _depth  # noqa: PLW0603
    with _depth_lock:
        if _depth == 0:
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
        _depth += 1


def _leave() -> None:
    global _depth  # noqa: PLW0603
    with _depth_lock:
        _depth -= 1
        if _depth == 0:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


class InProcessWSGIApp:
    def __init__(self) -> None:
        self._handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        _enter()
        try:
            response = self._handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()  # fires request_finished, as a WSGI server would
        finally:
            _leave()
