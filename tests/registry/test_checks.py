"""``SHOP_CONTEXTS`` is validated at startup (system check), and ``override_settings`` rebinds contexts."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.checks import Error
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from shop import registry
from shop.registry.checks import validate
from shop.registry.transport.client import RemoteContext
from shop.users.api import UsersAPI
from shop.users.services import UsersService
from tests.factories import UserFactory

SECRET = "s" * 32
REMOTE = {"BACKEND": "remote", "URLS": ["http://users.internal:8000"]}


def _ids(shop_contexts: Any, secret: str = SECRET) -> list[str]:
    errors = validate(shop_contexts, internal_secret=secret)
    assert all(isinstance(e, Error) for e in errors)
    return [str(e.id) for e in errors]


@pytest.mark.parametrize(
    "shop_contexts",
    [
        pytest.param({}, id="nothing-configured"),
        pytest.param({"users": {"BACKEND": "local"}}, id="local"),
        pytest.param({"users": {}}, id="local-by-default"),
        pytest.param({"users": REMOTE}, id="remote"),
        pytest.param(
            {
                "users": {
                    **REMOTE,
                    "URLS": ["https://a.internal", "http://10.0.0.7:8000/shop"],
                    "TIMEOUT": 2,
                    "CONNECT_TIMEOUT": 0.5,
                    "RETRIES": 3,
                    "RETRY_DEADLINE": 5.0,
                    "BREAKER_FAIL_MAX": 5,
                    "BREAKER_RESET_TIMEOUT": 30,
                    "TRANSPORT": "http",
                }
            },
            id="remote-every-option",
        ),
        pytest.param({"users": {"BACKEND": "myproject.backends.Custom"}}, id="dotted-backend"),
    ],
)
def test_valid_bindings_pass(shop_contexts: Any) -> None:
    assert _ids(shop_contexts) == []


@pytest.mark.parametrize(
    ("shop_contexts", "expected"),
    [
        pytest.param([("users", "local")], "shop.E001", id="not-a-dict"),
        pytest.param({"paymnets": {"BACKEND": "local"}}, "shop.E002", id="unknown-context"),
        pytest.param({"users": "remote"}, "shop.E003", id="binding-not-a-dict"),
        pytest.param({"users": {"BACKEND": "local", "TIMOUT": 1}}, "shop.E004", id="unknown-key"),
        pytest.param({"users": {"BACKEND": "remote"}}, "shop.E005", id="remote-without-urls"),
        pytest.param({"users": {**REMOTE, "URLS": []}}, "shop.E005", id="remote-with-empty-urls"),
        pytest.param({"users": {**REMOTE, "URLS": "http://a"}}, "shop.E005", id="urls-a-string"),
        pytest.param({"users": {**REMOTE, "URLS": ["users.internal:8000"]}}, "shop.E006", id="url-without-scheme"),
        pytest.param({"users": {**REMOTE, "URLS": ["ftp://users.internal"]}}, "shop.E006", id="url-not-http"),
        pytest.param({"users": {**REMOTE, "URLS": ["http://"]}}, "shop.E006", id="url-without-host"),
        pytest.param({"users": {**REMOTE, "TIMEOUT": 0}}, "shop.E007", id="timeout-zero"),
        pytest.param({"users": {**REMOTE, "TIMEOUT": -1}}, "shop.E007", id="timeout-negative"),
        pytest.param({"users": {**REMOTE, "TIMEOUT": "2"}}, "shop.E007", id="timeout-a-string"),
        pytest.param({"users": {**REMOTE, "TIMEOUT": True}}, "shop.E007", id="timeout-a-bool"),
        pytest.param({"users": {**REMOTE, "TIMEOUT": 600}}, "shop.E007", id="timeout-too-long"),
        pytest.param({"users": {**REMOTE, "CONNECT_TIMEOUT": None}}, "shop.E007", id="connect-timeout-none"),
        pytest.param({"users": {**REMOTE, "BREAKER_RESET_TIMEOUT": 0}}, "shop.E007", id="reset-timeout-zero"),
        pytest.param({"users": {**REMOTE, "SECRET": "short"}}, "shop.E008", id="short-binding-secret"),
        pytest.param({"users": {"BACKEND": "rmeote"}}, "shop.E009", id="misspelt-backend"),
        pytest.param({"users": {**REMOTE, "RETRIES": 0}}, "shop.E010", id="no-attempts"),
        pytest.param({"users": {**REMOTE, "BREAKER_FAIL_MAX": 2.5}}, "shop.E010", id="fail-max-a-float"),
        pytest.param({"users": {**REMOTE, "TRANSPORT": "grpc"}}, "shop.E011", id="unknown-transport"),
    ],
)
def test_invalid_bindings_are_reported(shop_contexts: Any, expected: str) -> None:
    assert _ids(shop_contexts) == [expected]


def test_a_short_internal_secret_fails_only_when_a_context_is_remote() -> None:
    assert _ids({"users": REMOTE}, secret="too-short") == ["shop.E008"]
    assert _ids({"users": REMOTE}, secret="") == ["shop.E008"]
    assert _ids({"users": {"BACKEND": "local"}}, secret="") == []
    assert _ids({"users": {**REMOTE, "SECRET": SECRET}}, secret="") == []  # a binding's own secret wins


def test_the_check_runs_at_startup() -> None:
    """Registered with Django's check framework: ``manage.py check`` (and runserver, migrate) refuse it."""
    with (
        override_settings(SHOP_CONTEXTS={"users": {"BACKEND": "remote"}}),
        pytest.raises(SystemCheckError, match=r"shop\.E005"),
    ):
        call_command("check")
    call_command("check", tags=["compatibility"])  # the project's own settings pass


@pytest.mark.django_db
@override_settings(SHOP_CONTEXTS={"users": {"BACKEND": "local"}})  # also under SHOP_REMOTE_CONTEXTS=all
def test_override_settings_switches_registry_get_between_local_and_remote() -> None:
    user = UserFactory.create()
    assert isinstance(registry.get(UsersAPI), UsersService)

    remote = {"BACKEND": "remote", "URLS": ["http://testserver"], "TRANSPORT": "wsgi"}
    with override_settings(SHOP_CONTEXTS={"users": remote}):
        users = registry.get(UsersAPI)
        assert isinstance(users, RemoteContext)
        assert users is registry.get(UsersAPI)  # one client per binding, not one per call
        assert users.get_user(user_id=user.pk).id == user.pk  # really over HTTP, in this transaction
        assert registry.local(UsersAPI) is not users  # what the internal endpoint serves stays local

    assert isinstance(registry.get(UsersAPI), UsersService)
