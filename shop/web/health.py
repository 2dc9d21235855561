"""``/healthz``: the process answers. ``/readyz``: its database(s), cache and broker answer."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connections
from django.http import HttpRequest, JsonResponse


def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


def _check_databases() -> dict[str, str]:
    result: dict[str, str] = {}
    for alias in settings.DATABASES:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1")
            result[f"database:{alias}"] = "ok"
        except Exception as exc:  # any driver error means not ready
            result[f"database:{alias}"] = f"error: {type(exc).__name__}"
    return result


def _check_cache() -> str:
    key, value = f"readyz:{uuid.uuid4().hex}", "1"
    try:
        cache.set(key, value, 5)
        ok = cache.get(key) == value
        cache.delete(key)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok" if ok else "error: cache did not return what was stored"


def _check_broker() -> str:
    if not settings.CELERY_BROKER_URL:
        return "eager (no broker configured)"
    from celery import current_app as app

    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, Any] = _check_databases()
    checks["cache"] = _check_cache()
    checks["broker"] = _check_broker()
    ready = all(not str(v).startswith("error") for v in checks.values())
    return JsonResponse({"status": "ok" if ready else "unavailable", "checks": checks}, status=200 if ready else 503)
