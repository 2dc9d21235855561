"""Every failure a client can meet is RFC 9457 problem+json with a stable ``code`` (ARCHITECTURE §6)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from django.test.client import RequestFactory
from rest_framework.test import APIClient

from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("url", ["/no/such/page/", "/api/v1/no-such-endpoint/", "/api/v2/users/me/"])
def test_unknown_url_is_a_problem_404_from_django_itself(url: str) -> None:
    response = Client().get(url)
    assert_problem(response, 404, "not_found")


def test_wrong_method_is_405(api_client: APIClient) -> None:
    response = api_client.put("/api/v1/auth/token/", {}, format="json")
    assert_problem(response, 405, "method_not_allowed")
    assert "POST" in response["Allow"]


def test_non_json_body_is_415(api_client: APIClient) -> None:
    response = api_client.post(
        "/api/v1/auth/register/", "email=a@b.c", content_type="application/x-www-form-urlencoded"
    )
    assert_problem(response, 415, "unsupported_media_type")


def test_malformed_json_is_400_malformed_request(api_client: APIClient) -> None:
    response = api_client.post("/api/v1/auth/register/", '{"email": "a@b.c", ', content_type="application/json")
    body = assert_problem(response, 400, "malformed_request")
    assert "errors" not in body


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"email": "not-an-email", "password": "long-enough-pass-1"}, "email"),
        ({"password": "long-enough-pass-1"}, "email"),
        ({"email": "a@example.com", "password": "long-enough-pass-1", "is_staff": True}, "is_staff"),
    ],
)
def test_invalid_fields_are_400_validation_error_with_errors_per_field(
    api_client: APIClient, payload: dict[str, Any], field: str
) -> None:
    body = assert_problem(api_client.post("/api/v1/auth/register/", payload), 400, "validation_error")
    assert field in body["errors"]
    assert all(isinstance(messages, list) and messages for messages in body["errors"].values())


def test_missing_credentials_are_401_with_www_authenticate(api_client: APIClient) -> None:
    response = api_client.get("/api/v1/users/me/")
    assert_problem(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer not-a-jwt", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.forged", "Bearer", "Bearer a b"],
)
def test_a_bad_token_is_401_authentication_failed(api_client: APIClient, authorization: str) -> None:
    response = api_client.get("/api/v1/users/me/", HTTP_AUTHORIZATION=authorization)
    body = assert_problem(response, 401, "authentication_failed")
    assert isinstance(body.get("detail"), str)
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_a_bad_token_is_refused_even_where_anonymous_access_is_allowed(api_client: APIClient) -> None:
    """A client that sends a broken token learns it, instead of silently acting anonymously."""
    response = api_client.post(
        "/api/v1/auth/password-reset/", {"email": "a@example.com"}, HTTP_AUTHORIZATION="Bearer garbage"
    )
    assert_problem(response, 401, "authentication_failed")


def test_a_token_of_a_deactivated_user_is_401(login: Callable[..., APIClient], make_user: Callable[..., Any]) -> None:
    user = make_user()
    client = login(user)
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert_problem(client.get("/api/v1/users/me/"), 401, "authentication_failed")


@pytest.mark.urls("tests.web.urls")
def test_domain_error_raised_in_a_view_keeps_its_code_status_and_extras(api_client: APIClient) -> None:
    body = assert_problem(api_client.get("/test/domain-error/"), 409, "out_of_stock")
    assert body["title"] == "Not enough stock"
    assert body["detail"] == "Only 2 left of SKU-1."
    assert (body["sku"], body["available"]) == ("SKU-1", 2)


@pytest.mark.urls("tests.web.urls")
def test_context_unavailable_is_503_with_retry_after(api_client: APIClient) -> None:
    response = api_client.get("/test/unavailable/")
    body = assert_problem(response, 503, "context_unavailable")
    assert response["Retry-After"] == "7"
    assert body["context"] == "payments"
    assert "breaker open" not in response.content.decode()  # the internal reason is logged, not shown


@pytest.mark.urls("tests.web.urls")
def test_an_unhandled_exception_is_a_problem_500_that_leaks_nothing() -> None:
    response = Client(raise_request_exception=False).get("/test/bug/")
    assert_problem(response, 500, "server_error")
    assert "hunter2" not in response.content.decode()
    assert "RuntimeError" not in response.content.decode()
    assert response["X-Request-ID"]


def test_django_level_400_and_403_handlers_are_problems_too() -> None:
    """Requests refused before any view runs (bad Host, CSRF) use Django's handlers, also problem+json."""
    from shop.web.exceptions import bad_request, forbidden

    request = RequestFactory().get("/")
    assert_problem(bad_request(request), 400, "bad_request")
    assert_problem(forbidden(request), 403, "permission_denied")


def test_a_disallowed_host_gets_a_problem_400() -> None:
    """On public paths (probes and internal calls take the Host as sent: test_probes_in_production)."""
    response = Client(raise_request_exception=False).get("/api/v1/catalog/products/", HTTP_HOST="evil.example")
    assert_problem(response, 400, "bad_request")
