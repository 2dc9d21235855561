"""``/healthz``: the process answers. ``/readyz``: it can serve its contexts.

Readiness means its database(s) answer: every configured one, since a process is given only the
databases of the contexts it serves (``DATABASE_URL`` and its ``SHOP_DB_<CTX>``). The cache and
the broker are reported, and their failure makes the answer ``degraded``, still 200: reads fall
back to the database, throttles count per process, events wait in the outbox, so catalog, cart
and checkout keep working, and one Redis blip must not pull every instance out of rotation.
"""

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


def _failed(result: str) -> bool:
    return result.startswith("error")


def readyz(request: HttpRequest) -> JsonResponse:
    databases = _check_databases()
    degradable = {"cache": _check_cache(), "broker": _check_broker()}
    checks: dict[str, Any] = {**databases, **degradable}
    if any(_failed(result) for result in databases.values()):
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    status = "degraded" if any(_failed(result) for result in degradable.values()) else "ok"
    return JsonResponse({"status": status, "checks": checks})
