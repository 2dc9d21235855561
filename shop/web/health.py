"""``/healthz``: the process answers. ``/readyz``: it can serve its contexts.

Readiness means its database(s) answer: every configured one, since a process is given only the
databases of the contexts it serves (``DATABASE_URL`` and its ``SHOP_DB_<CTX>``). The cache and
the broker are reported, and their failure makes the answer ``degraded``, still 200: reads fall
back to the database, throttles count per process, events wait in the outbox, so catalog, cart
and checkout keep working, and one Redis blip must not pull every instance out of rotation.
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
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
    """Write, read back and delete a key: with Redis in one round trip on the raw client (so the
    cache's ``IGNORE_EXCEPTIONS`` cannot hide a failure, and a hung Redis costs one socket timeout)."""
    key, value = f"readyz:{uuid.uuid4().hex}", "1"
    try:
        if settings.CACHES["default"]["BACKEND"].startswith("django_redis."):
            from django_redis import get_redis_connection

            full_key = cache.make_key(key)
            _, read, _ = (
                get_redis_connection("default")
                .pipeline()
                .set(full_key, value, ex=5)
                .get(full_key)
                .delete(full_key)
                .execute()
            )
            ok = read == value.encode()
        else:
            cache.set(key, value, 5)
            ok = cache.get(key) == value
            cache.delete(key)
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok" if ok else "error: cache did not return what was stored"


BROKER_CHECK_TIMEOUT_S = 0.5


def _check_broker() -> str:
    """Open (and close) a broker connection, within ``BROKER_CHECK_TIMEOUT_S`` even when it hangs."""
    if not settings.CELERY_BROKER_URL:
        return "eager (no broker configured)"
    from celery import current_app as app

    bound = BROKER_CHECK_TIMEOUT_S
    try:
        with app.connection_for_write(
            connect_timeout=bound, transport_options={"read_timeout": bound, "write_timeout": bound}
        ) as connection:
            connection.ensure_connection(max_retries=1, timeout=1, interval_start=0)  # one attempt
    except Exception as exc:
        return f"error: {type(exc).__name__}"
    return "ok"


def _failed(result: str) -> bool:
    return result.startswith("error")


def readyz(request: HttpRequest) -> JsonResponse:
    """Cache and broker are asked side by side while the databases are: a probe's answer takes the
    longest single check (about half a second when one of them hangs), not their sum."""
    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="readyz") as pool:
        cache_check, broker_check = pool.submit(_check_cache), pool.submit(_check_broker)
        databases = _check_databases()  # on this thread: its connections are this thread's
        degradable = {"cache": cache_check.result(), "broker": broker_check.result()}
    checks: dict[str, Any] = {**databases, **degradable}
    if any(_failed(result) for result in databases.values()):
        return JsonResponse({"status": "unavailable", "checks": checks}, status=503)
    status = "degraded" if any(_failed(result) for result in degradable.values()) else "ok"
    return JsonResponse({"status": status, "checks": checks})
