"""The OpenAPI schema and the server agree on what a valid request is (issue 12, item 18).

Each disagreement schemathesis found has a test here: what the schema says, and that the server
does exactly that. ``test_schemathesis.py`` then fuzzes the whole API against the schema.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shop.web.serializers import COUNTRY_CODES
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.helpers import assert_problem

pytestmark = pytest.mark.django_db

ADDRESS = {"full_name": "Ada", "line1": "1 Row", "city": "London", "postal_code": "W1", "country": "GB"}


@pytest.fixture(scope="module")
def openapi(django_db_blocker: Any) -> dict[str, Any]:
    with django_db_blocker.unblock():
        document: dict[str, Any] = Client().get("/api/schema/?format=json").json()
    return document


def _request_schema(openapi: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    ref = openapi["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema: dict[str, Any] = openapi["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return schema


def _parameter(openapi: dict[str, Any], path: str, method: str, name: str) -> dict[str, Any]:
    (parameter,) = [p for p in openapi["paths"][path][method]["parameters"] if p["name"] == name]
    return parameter


@pytest.fixture
def customer(make_user: Callable[..., Any]) -> APIClient:
    client = APIClient()
    client.force_authenticate(make_user())
    return client


@pytest.fixture
def sku(db: None) -> str:
    return VariantFactory.create(product=ProductFactory.create(), sku="TEE-1", stock=5).sku


# --- bodies: unknown fields, strict types --------------------------------------------------------------


def test_every_request_body_forbids_additional_properties(openapi: dict[str, Any]) -> None:
    """The server refuses unknown fields (no mass assignment), so the schema says so."""
    for path, item in openapi["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                assert _request_schema(openapi, path, method).get("additionalProperties") is False, (method, path)


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/users/me/addresses/", {**ADDRESS, "is_default": 0}, "is_default"),
        ("/api/v1/users/me/addresses/", {**ADDRESS, "is_default": "true"}, "is_default"),
        ("/api/v1/users/me/addresses/", {**ADDRESS, "postal_code": 12345}, "postal_code"),
        ("/api/v1/cart/lines/", {"sku": "TEE-1", "quantity": "2"}, "quantity"),
        ("/api/v1/cart/lines/", {"sku": "TEE-1", "quantity": 2.0}, "quantity"),
        ("/api/v1/cart/lines/", {"sku": "TEE-1", "quantity": True}, "quantity"),
        ("/api/v1/orders/", {"address_id": "1"}, "address_id"),
        ("/api/v1/orders/", {"shipping_address": [ADDRESS]}, "shipping_address"),
    ],
)
def test_a_value_of_another_json_type_is_refused_not_coerced(
    customer: APIClient, sku: str, url: str, body: dict[str, Any], field: str
) -> None:
    response = customer.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
    assert field in assert_problem(response, 400, "validation_error")["errors"]


# --- countries ----------------------------------------------------------------------------------------


def test_countries_are_the_iso_3166_list_in_schema_and_server(openapi: dict[str, Any], customer: APIClient) -> None:
    assert {"DE", "GB", "US", "JP"} <= set(COUNTRY_CODES) and "AA" not in COUNTRY_CODES and len(COUNTRY_CODES) > 240
    country = _request_schema(openapi, "/api/v1/users/me/addresses/", "post")["properties"]["country"]
    documented = openapi["components"]["schemas"][country["allOf"][0]["$ref"].rsplit("/", 1)[1]]["enum"]
    assert set(documented) == set(COUNTRY_CODES)
    refused = customer.post("/api/v1/users/me/addresses/", {**ADDRESS, "country": "AA"}, format="json")
    assert "country" in assert_problem(refused, 400, "validation_error")["errors"]
    assert customer.post("/api/v1/users/me/addresses/", ADDRESS, format="json").status_code == 201


def test_checkout_refuses_a_country_that_is_not_one(customer: APIClient) -> None:
    body = {"shipping_address": {**ADDRESS, "country": "AA"}}
    response = customer.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert_problem(response, 400, "validation_error")


# --- checkout: exactly one of two fields ----------------------------------------------------------------


def test_checkout_documents_and_enforces_exactly_one_of_address_and_address_id(
    openapi: dict[str, Any], customer: APIClient
) -> None:
    schema = _request_schema(openapi, "/api/v1/orders/", "post")
    assert schema["oneOf"] == [{"required": ["shipping_address"]}, {"required": ["address_id"]}]
    assert openapi["paths"]["/api/v1/orders/"]["post"]["requestBody"]["required"] is True
    for body in ({"shipping_address": ADDRESS, "address_id": 1}, {}):
        response = customer.post("/api/v1/orders/", body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))
        assert_problem(response, 400, "validation_error")


# --- the cart -------------------------------------------------------------------------------------------


def test_a_guests_first_add_answers_the_documented_201(openapi: dict[str, Any], sku: str) -> None:
    responses = openapi["paths"]["/api/v1/cart/lines/"]["post"]["responses"]
    assert {"200", "201"} <= set(responses)
    guest = APIClient()
    first = guest.post("/api/v1/cart/lines/", {"sku": sku}, format="json")
    assert first.status_code == 201 and first["X-Cart-Token"]
    guest.credentials(HTTP_X_CART_TOKEN=first["X-Cart-Token"])
    assert guest.post("/api/v1/cart/lines/", {"sku": sku}, format="json").status_code == 200


def test_setting_a_line_quantity_documents_and_requires_quantity(openapi: dict[str, Any], customer: APIClient) -> None:
    schema = _request_schema(openapi, "/api/v1/cart/lines/{sku}/", "patch")
    assert schema["required"] == ["quantity"]
    assert openapi["paths"]["/api/v1/cart/lines/{sku}/"]["patch"]["requestBody"]["required"] is True
    assert_problem(customer.patch("/api/v1/cart/lines/TEE-1/", {}, format="json"), 400, "validation_error")


def test_partial_updates_stay_documented_as_partial(openapi: dict[str, Any]) -> None:
    """Views that validate PATCH bodies partially (``partial=True``) keep every field optional."""
    assert "required" not in _request_schema(openapi, "/api/v1/users/me/addresses/{address_id}/", "patch")


def test_merge_without_the_required_token_header_is_400(openapi: dict[str, Any], customer: APIClient) -> None:
    assert _parameter(openapi, "/api/v1/cart/merge/", "post", "X-Cart-Token")["required"] is True
    assert_problem(customer.post("/api/v1/cart/merge/"), 400, "cart_token_required")


# --- query strings -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "query", "field"),
    [
        ("/api/v1/orders/", "status=", "status"),
        ("/api/v1/orders/", "status=paid&status=cancelled", "status"),
        ("/api/v1/orders/", "cursor=", "cursor"),
        ("/api/v1/catalog/products/", "sort=", "sort"),
        ("/api/v1/catalog/products/", "in_stock=yes", "in_stock"),
        ("/api/v1/catalog/products/", "in_stock=1", "in_stock"),
        ("/api/v1/catalog/products/", "page_size=2.0", "page_size"),
        ("/api/v1/catalog/products/", "min_price=", "min_price"),
        ("/api/v1/catalog/products/", "min_price=1e2", "min_price"),
        ("/api/v1/catalog/products/", "min_price=-1", "min_price"),
        ("/api/v1/catalog/products/", "min_price=1.234", "min_price"),
        ("/api/v1/orders/", "stauts=paid", "stauts"),  # a typo is not "no filter"
        ("/api/v1/users/me/addresses/", "x=1", "x"),
        ("/api/v1/users/me/", "format=json", "format"),
    ],
)
def test_a_query_value_the_schema_does_not_allow_is_refused(
    customer: APIClient, url: str, query: str, field: str
) -> None:
    assert field in assert_problem(customer.get(f"{url}?{query}"), 400, "validation_error")["errors"]


def test_query_values_the_schema_allows_are_accepted(customer: APIClient) -> None:
    for url in (
        "/api/v1/orders/?status=paid&page_size=5",
        "/api/v1/catalog/products/?in_stock=false&min_price=0&max_price=12.5&sort=price&q=",
        "/api/v1/users/me/addresses/?page=1&page_size=100",
    ):
        assert customer.get(url).status_code == 200, url


def test_decimal_parameters_document_the_pattern_the_server_enforces(openapi: dict[str, Any]) -> None:
    schema = _parameter(openapi, "/api/v1/catalog/products/", "get", "min_price")["schema"]
    assert schema["pattern"] == r"^[0-9]{1,10}(\.[0-9]{1,2})?$"


def test_an_empty_status_or_sort_is_not_documented_as_valid(openapi: dict[str, Any]) -> None:
    assert "" not in _parameter(openapi, "/api/v1/orders/", "get", "status")["schema"]["enum"]
    assert "" not in _parameter(openapi, "/api/v1/catalog/products/", "get", "sort")["schema"]["enum"]
