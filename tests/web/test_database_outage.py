"""PostgreSQL unreachable: every path answers 503 problem+json with ``Retry-After``, never a 500.

A real cut, not a mock: the app's connections go through a loopback TCP proxy in front of the real
PostgreSQL, and the test cuts it (open connections reset, new ones refused), then restores it.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.db import close_old_connections, connections
from django.test import Client
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import AccessToken

from shop.registry.transport import signing
from tests.factories import UserFactory
from tests.tcp_proxy import TcpProxy

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def database_proxy() -> Iterator[TcpProxy]:
    """Every PostgreSQL alias reached through one cuttable proxy (they share one server)."""
    aliases = [a for a in connections if connections[a].vendor == "postgresql"]
    first = connections[aliases[0]].settings_dict
    proxy = TcpProxy(first["HOST"] or "127.0.0.1", int(first["PORT"] or 5432))
    proxy.restore()
    saved = {
        alias: (connections[alias].settings_dict["HOST"], connections[alias].settings_dict["PORT"]) for alias in aliases
    }
    for alias in aliases:
        connections[alias].close()
        connections[alias].settings_dict.update(HOST="127.0.0.1", PORT=str(proxy.port))
    try:
        yield proxy
    finally:
        proxy.cut()
        for alias, (host, port) in saved.items():
            connections[alias].close()
            connections[alias].settings_dict.update(HOST=host, PORT=port)


def _internal_get_user() -> Any:
    path, body = "/internal/users/get_user", b'{"user_id": 1}'
    headers = signing.signed_headers(
        secret=settings.SHOP_INTERNAL_SECRET, method="POST", path=path, body=body, acting_user=""
    )
    return Client(raise_request_exception=False).post(path, body, content_type="application/json", headers=headers)


def _requests(bearer: str) -> dict[str, Any]:
    """One of each kind: anonymous, the JWT authentication layer, guest cart, lists, admin, internal."""
    anonymous = APIClient(raise_request_exception=False)
    signed_in = APIClient(raise_request_exception=False)
    signed_in.credentials(HTTP_AUTHORIZATION=f"Bearer {bearer}")
    guest = APIClient(raise_request_exception=False)
    guest.credentials(HTTP_X_CART_TOKEN="some-guest-token")
    return {
        "login": anonymous.post("/api/v1/auth/token/", {"email": "a@example.com", "password": "x" * 12}),
        "register": anonymous.post("/api/v1/auth/register/", {"email": "b@example.com", "password": "Long-enough-1"}),
        "me (JWT auth layer)": signed_in.get("/api/v1/users/me/"),
        "orders": signed_in.get("/api/v1/orders/"),
        "guest cart": guest.get("/api/v1/cart/"),
        "products": anonymous.get("/api/v1/catalog/products/"),
        "admin login": Client(raise_request_exception=False).post(
            "/admin/login/", {"username": "a@example.com", "password": "x"}
        ),
        "internal call": _internal_get_user(),
    }


def test_every_path_answers_503_with_retry_after_while_the_database_is_cut(database_proxy: TcpProxy) -> None:
    user = UserFactory.create()
    bearer = str(AccessToken.for_user(user))
    assert APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {bearer}").status_code == 200

    database_proxy.cut()
    for name, response in _requests(bearer).items():
        assert response.status_code == 503, (name, response.status_code, response.content[:300])
        assert response["Content-Type"] == "application/problem+json", name
        assert int(response["Retry-After"]) > 0, name
        # A remote-bound context's caller sees its callee's outage as that context being unavailable.
        assert response.json()["code"] in {"service_unavailable", "context_unavailable"}, name

    database_proxy.restore()
    close_old_connections()  # what Django runs between two requests: drops the connections that broke
    assert APIClient().get("/api/v1/users/me/", HTTP_AUTHORIZATION=f"Bearer {bearer}").status_code == 200


def test_a_lost_database_outside_any_view_is_a_503_from_handler500_too() -> None:
    """Middleware (sessions, authentication) can hit the database outside a view: Django then calls
    ``handler500`` from inside its ``except``, where the failure is still at hand."""
    from django.db import InterfaceError, OperationalError
    from django.test import RequestFactory

    from shop.web.exceptions import server_error

    for failure in (OperationalError("connection refused"), InterfaceError("connection already closed")):
        try:
            raise failure
        except type(failure):
            response = server_error(RequestFactory().get("/admin/"))
        assert response.status_code == 503 and response["Retry-After"]
    try:
        raise ValueError("a bug")
    except ValueError:
        assert server_error(RequestFactory().get("/")).status_code == 500
