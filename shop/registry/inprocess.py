"""A WSGI app for ``httpx.WSGITransport`` that calls this same Django process.

Used when a context is bound "remote" but served in-process (the test mode
``SHOP_REMOTE_CONTEXTS``). Like Django's test client, it keeps the request signals from
closing the caller's database connection, so the call runs inside the caller's test transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections


class InProcessWSGIApp:
    def __init__(self) -> None:
        self._handler = WSGIHandler()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self._handler(environ, start_response)
            try:
                return [b"".join(response)]
            finally:
                close = getattr(response, "close", None)
                if close is not None:
                    close()
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)
