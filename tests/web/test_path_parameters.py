"""Path parameters are validated before they reach a query: a NUL byte, an over-long value or a
number past the database's range is a 4xx problem, never a 500 from the database.

``DELETE /api/v1/cart/lines/%00/`` used to reach PostgreSQL (which refuses NUL in text) and answer 500,
for any guest.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.helpers import assert_problem


def assert_not_found(response: Any) -> None:
    """A 404 problem; which ``*not_found`` code depends on the resource (``order_not_found``, …)."""
    code = response.json().get("code", "") if response["Content-Type"].endswith("json") else ""
    assert code.endswith("not_found"), response.content[:300]
    assert_problem(response, 404, code)


pytestmark = pytest.mark.django_db

BAD_CODES = ["%00", "a%00b", "x" * 65, "%C0%80", "..", "-leading-dash", "%F0%9F%92%A9", "a%20b", "%ED%A0%80"]
BIG_IDS = ["99999999999999999999", "9223372036854775808", "0"]


def _staff_client(make_user: Callable[..., Any]) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user(is_staff=True))
    return client


@pytest.fixture
def guest_with_cart(db: None) -> APIClient:
    from tests.catalog.factories import ProductFactory, VariantFactory

    VariantFactory.create(product=ProductFactory.create(), sku="TEE-1", stock=5)
    client = APIClient()
    token = client.post("/api/v1/cart/lines/", {"sku": "TEE-1"}, format="json")["X-Cart-Token"]
    client.credentials(HTTP_X_CART_TOKEN=token)
    return client


@pytest.mark.parametrize("sku", BAD_CODES)
@pytest.mark.parametrize("method", ["delete", "patch"])
def test_a_cart_line_path_that_is_not_a_sku_is_a_problem_404(guest_with_cart: APIClient, method: str, sku: str) -> None:
    response = getattr(guest_with_cart, method)(f"/api/v1/cart/lines/{sku}/", {"quantity": 1}, format="json")
    assert_problem(response, 404, "not_found")
    assert guest_with_cart.get("/api/v1/cart/").json()["item_count"] == 1  # nothing changed


@pytest.mark.parametrize("sku", BAD_CODES)
def test_staff_sku_paths_refuse_what_is_not_a_sku(make_user: Callable[..., Any], sku: str) -> None:
    staff = _staff_client(make_user)
    assert_problem(staff.get(f"/api/v1/catalog/staff/products/1/variants/{sku}/"), 404, "not_found")
    response = staff.post(f"/api/v1/catalog/staff/stock/{sku}/adjust/", {"on_hand_delta": 1}, format="json")
    assert_problem(response, 404, "not_found")


@pytest.mark.parametrize("identifier", BIG_IDS)
@pytest.mark.parametrize(
    "template",
    [
        "/api/v1/orders/{}/",
        "/api/v1/orders/{}/cancel/",
        "/api/v1/payments/{}/",
        "/api/v1/users/me/addresses/{}/",
        "/api/v1/catalog/staff/products/{}/",
        "/api/v1/catalog/staff/categories/{}/",
    ],
)
def test_an_id_out_of_range_is_a_problem_404(make_user: Callable[..., Any], template: str, identifier: str) -> None:
    client = _staff_client(make_user)
    method = client.post if template.endswith("cancel/") else client.get
    assert_not_found(method(template.format(identifier)))


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/payments/webhooks/%00/",
        "/api/v1/payments/webhooks/" + "x" * 300 + "/",
        "/api/v1/payments/simulated/authenticate/%00/",
        "/api/v1/payments/simulated/authenticate/" + "x" * 300 + "/",
    ],
)
def test_payment_path_codes_are_refused_before_any_lookup(url: str) -> None:
    response = Client(raise_request_exception=False).post(url, {"approve": True}, content_type="application/json")
    assert_not_found(response)


@pytest.mark.parametrize("slug", ["%00", "x" * 200, "a%20b"])
def test_a_product_path_that_is_not_a_slug_is_a_problem_404(api_client: APIClient, slug: str) -> None:
    assert_problem(api_client.get(f"/api/v1/catalog/products/{slug}/"), 404, "not_found")
