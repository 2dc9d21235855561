"""``/healthz`` says the process answers; ``/readyz`` says it can serve its contexts (its databases
answer), reporting the cache and the broker, whose failure only degrades it."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client

from shop.celery import app as celery_app
from tests.contracts.kit import closed_port
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.django_db

CLOSED_PORT_REDIS = "redis://127.0.0.1:1/0"  # nothing listens on port 1: connection refused at once


def _unreachable_redis(ignore_exceptions: bool) -> dict[str, Any]:
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CLOSED_PORT_REDIS,
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.5,
                "SOCKET_TIMEOUT": 0.5,
                "IGNORE_EXCEPTIONS": ignore_exceptions,
            },
        }
    }


def test_healthz_answers_without_touching_dependencies(django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = Client().get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.postgres
@pytest.mark.redis
def test_readyz_checks_every_database_the_real_redis_cache_and_the_broker() -> None:
    assert django_settings.CACHES["default"]["BACKEND"] == "django_redis.cache.RedisCache"  # not a local fallback

    response = Client().get("/readyz")

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ok"
    checks = body["checks"]
    assert {f"database:{alias}" for alias in django_settings.DATABASES} <= set(checks)
    assert all(checks[f"database:{alias}"] == "ok" for alias in django_settings.DATABASES)
    assert checks["cache"] == "ok"
    assert checks["broker"].startswith("eager")  # the test run has no CELERY_BROKER_URL


@pytest.mark.parametrize("ignore_exceptions", [True, False], ids=["as-configured-errors-ignored", "errors-raised"])
def test_readyz_reports_an_unreachable_cache_as_degraded_not_unready(settings: Any, ignore_exceptions: bool) -> None:
    """The cache is an accelerator: reads fall back to the database and throttles count per process, so
    a Redis blip must not pull every instance out of rotation. It is still reported (also with
    ``IGNORE_EXCEPTIONS`` on, how settings configure Redis: a silently failing cache is found out)."""
    settings.CACHES = _unreachable_redis(ignore_exceptions)

    response = Client().get("/readyz")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "degraded"
    assert body["checks"]["cache"].startswith("error")
    assert body["checks"]["database:default"] == "ok"  # only the broken dependency is blamed


@pytest.mark.parametrize("how", ["refused", "hung"])
def test_readyz_reports_an_unreachable_broker_as_degraded_not_unready(
    settings: Any, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """Events wait in the outbox while the broker is away (the sweep sends them later). A hung broker
    (TCP up, nothing answered) is asked within a bound, not until a probe's own timeout."""
    hung = TcpProxy("127.0.0.1", 5672)  # stalled: accepts connections, never forwards or answers
    if how == "hung":
        hung.restore()
        hung.stall()
    broker = f"amqp://guest:guest@127.0.0.1:{hung.port if how == 'hung' else closed_port()}//"
    settings.CELERY_BROKER_URL = broker
    monkeypatch.setitem(celery_app.conf, "broker_url", broker)
    monkeypatch.setitem(celery_app.conf, "broker_write_url", broker)

    try:
        response = Client().get("/readyz")
    finally:
        hung.cut()

    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["broker"].startswith("error")


@pytest.mark.redis
def test_api_requests_survive_a_cache_outage_as_configured(settings: Any, make_user: Any, login: Any) -> None:
    """The cache is an accelerator (throttle counters live there): with Redis gone, the API keeps
    answering instead of turning every request into a 500."""
    client = login(make_user())
    settings.CACHES = _unreachable_redis(ignore_exceptions=True)
    assert client.get("/api/v1/users/me/").status_code == 200
