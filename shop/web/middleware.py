"""Request id in and out, in-cluster requests behind a TLS proxy, and one access-log line per request."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from shop.kernel import context as call_context

logger = logging.getLogger("shop.access")
_VALID_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
HEADER = "X-Request-ID"


class RequestIDMiddleware:
    """Accept a sane incoming ``X-Request-ID`` (from a proxy or a calling context) or mint one."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        incoming = request.headers.get(HEADER, "")
        request_id = incoming if _VALID_ID.match(incoming) else uuid.uuid4().hex
        request.request_id = request_id  # type: ignore[attr-defined]
        # Both values are per request: a worker thread must never carry them into the next one.
        token = call_context.request_id.set(request_id)
        user_token = call_context.acting_user_id.set(None)
        try:
            response = self.get_response(request)
        finally:
            call_context.acting_user_id.reset(user_token)
            call_context.request_id.reset(token)
        response[HEADER] = request_id
        return response


class InClusterMiddleware:
    """Probes and internal calls come from inside the cluster, not through the public proxy: a
    kubelet's probe has the pod's IP as ``Host``, a calling context the Service's name, and neither
    has ``X-Forwarded-Proto``. On those paths only (``SHOP_IN_CLUSTER_PATHS``, also
    ``SECURE_REDIRECT_EXEMPT`` in production) the ``Host`` is taken as sent instead of checked
    against ``ALLOWED_HOSTS``: nothing there builds a URL from it, and internal calls are signed.
    Every public path keeps the host check and the HTTPS redirect. Sits before both."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.paths = [re.compile(pattern) for pattern in settings.SHOP_IN_CLUSTER_PATHS]

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.lstrip("/")
        if any(pattern.search(path) for pattern in self.paths):
            # Django's own host reading, minus the ALLOWED_HOSTS validation.
            request.get_host = request._get_raw_host  # type: ignore[method-assign,attr-defined]
        return self.get_response(request)


class AccessLogMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        logger.info(
            "request",
            extra={
                "method": request.method,
                "path": request.path,
                "status": response.status_code,
                "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                "request_id": getattr(request, "request_id", None),
            },
        )
        return response
