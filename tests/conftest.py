"""Shared test setup: real services when the harness found them, loud skips when not."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.conf import settings
from rest_framework.test import APIClient

from tests.factories import UserFactory
from tests.helpers import restore_migrated_data

SERVICES = {s for s in os.environ.get("SHOP_TEST_SERVICES", "").split(",") if s}
SQLITE_CHOSEN = os.environ.get("DATABASE_URL", "").startswith("sqlite:")  # a SQLite run (tests.harness)
_SERVICE_OF_MARKER = {"postgres": "postgres", "redis": "redis", "broker": "rabbitmq", "browser": "chromium"}
_skipped: dict[str, int] = {}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    multi_db = len(settings.DATABASES) > 1
    for item in items:
        for marker, service in _SERVICE_OF_MARKER.items():
            if item.get_closest_marker(marker) and service == "postgres" and SQLITE_CHOSEN:
                item.add_marker(pytest.mark.skip(reason="PostgreSQL-only: this run is on SQLite by choice"))
            elif item.get_closest_marker(marker) and service not in SERVICES:
                _skipped[service] = _skipped.get(service, 0) + 1
                item.add_marker(pytest.mark.skip(reason=f"{service} not available in this run (see banner)"))
        if multi_db:
            _allow_every_database(item)


def _allow_every_database(item: pytest.Item) -> None:
    """One database per context: every DB test may touch every context's database.

    Covers tests marked ``django_db`` and tests that only request the ``db``/``transactional_db``
    fixtures (pytest-django reads the closest marker, so the item-level one added here wins).
    """
    fixtures = set(getattr(item, "fixturenames", ()))
    db_marker = item.get_closest_marker("django_db")
    if db_marker is None and not fixtures & {"db", "transactional_db", "django_db_reset_sequences"}:
        return
    kwargs = dict(db_marker.kwargs) if db_marker is not None else {}
    if "databases" in kwargs:
        return
    if "transactional_db" in fixtures:
        kwargs["transaction"] = True
    item.add_marker(pytest.mark.django_db(**{**kwargs, "databases": "__all__"}), append=False)


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if _skipped:
        lines = [f"SKIPPED for missing services: {', '.join(f'{k} ({v} tests)' for k, v in _skipped.items())}"]
        terminalreporter.write_sep("!", lines[0], red=True, bold=True)


@pytest.fixture(autouse=True)
def _fast_and_isolated(settings: Any) -> Iterator[None]:
    """Cheap hashing (Argon2 costs ~100 ms a hash), a clean cache and fresh registry bindings."""
    from django.core.cache import cache

    from shop.registry.transport import lookup
    from shop.web import counters

    counters.local.clear()  # throttle counters kept in this process (no Redis, or Redis away)
    counters.shared.reset()
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if hasattr(cache, "delete_pattern"):  # Redis: only this run's keys (the harness sets a per-process KEY_PREFIX);
        cache.delete_pattern("*")  # FLUSHDB would empty a parallel run's cache in the middle of its tests
    else:
        cache.clear()
    lookup.reset()
    yield
    lookup.reset()


@pytest.fixture(autouse=True)
def _migrated_data(request: pytest.FixtureRequest) -> None:
    """A transactional test starts from a freshly migrated shop too: pytest-django empties every table
    after each one (data migrations' rows included), so they are put back first."""
    marker = request.node.get_closest_marker("django_db")
    if not (marker and marker.kwargs.get("transaction")) and "transactional_db" not in request.fixturenames:
        return
    request.getfixturevalue("transactional_db")
    restore_migrated_data()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db: None) -> Callable[..., Any]:
    def make(**kwargs: Any) -> Any:
        return UserFactory(**kwargs)

    return make


@pytest.fixture
def login(api_client: APIClient) -> Callable[..., APIClient]:
    """An APIClient authenticated as ``user`` with a real JWT obtained from the login endpoint."""

    def as_user(user: Any, password: str = UserFactory.PASSWORD) -> APIClient:
        client = APIClient()
        response = client.post("/api/v1/auth/token/", {"email": user.email, "password": password}, format="json")
        assert response.status_code == 200, response.content
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access']}")
        client.tokens = response.json()  # type: ignore[attr-defined]
        return client

    return as_user
