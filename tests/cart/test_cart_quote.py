"""The cart's quote (issue 15): pricing's tax, shipping and total on ``GET /api/v1/cart/``; checkout
charges exactly that when nothing changed, and a price or tax-rate change in between is a warning on the
cart and a 409 at checkout for a client that sends the total it showed — never a silent change."""

from __future__ import annotations

import uuid
from decimal import Decimal
from typing import Any

import pytest
from django.db import connections
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from shop.catalog.models import Variant
from shop.pricing.models import Promotion
from shop.users.models import User
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.contracts.kit import closed_port
from tests.factories import AddressFactory, UserFactory
from tests.helpers import assert_problem
from tests.orders.conftest import ORDERS, client_of, fill_cart
from tests.pricing import factories as pricing

pytestmark = pytest.mark.django_db

CART = "/api/v1/cart/"
BERLIN = {
    "full_name": "Ada L",
    "line1": "Unter den Linden 1",
    "city": "Berlin",
    "postal_code": "10117",
    "country": "DE",
}


def amounts(body: dict[str, Any], *names: str) -> tuple[str, ...]:
    return tuple(body[name]["amount"] for name in names)


def checkout(client: APIClient, **extra: Any) -> Any:
    body = {"shipping_address": BERLIN, **extra}
    return client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


@pytest.fixture
def customer() -> tuple[User, APIClient]:
    """A customer in Berlin (default address) with a T-shirt (standard rate) and two books (reduced)."""
    tee = VariantFactory.create(sku=f"TEE-{uuid.uuid4().hex[:6]}", price_amount=Decimal("30.00"), stock=10)
    book = VariantFactory.create(
        sku=f"BOOK-{uuid.uuid4().hex[:6]}",
        price_amount=Decimal("9.99"),
        stock=10,
        product=ProductFactory.create(tax_class="reduced"),
    )
    user = UserFactory.create()
    AddressFactory.create(user=user, country="DE", postal_code="10117", is_default=True)
    fill_cart(user, [tee.sku])
    fill_cart(user, [book.sku], quantity=2)
    return user, client_of(user)


def test_the_cart_is_quoted_for_the_default_address_and_checkout_charges_exactly_that(
    customer: tuple[User, APIClient],
) -> None:
    _, client = customer
    cart = client.get(CART).json()
    quote = cart["quote"]

    assert quote["destination"] == {"country": "DE", "postal_code": "10117"} and quote["estimated"] is False
    assert [line["tax_rate"] for line in quote["lines"]] == ["19.00", "7.00"]  # net prices: tax on top
    assert amounts(quote, "subtotal", "shipping_price", "tax", "total") == ("49.98", "4.90", "8.03", "62.91")
    assert sum(Decimal(row["tax"]["amount"]) for row in quote["tax_breakdown"]) == Decimal(quote["tax"]["amount"])

    response = checkout(client, expected_total=quote["total"]["amount"])

    assert response.status_code == 201, response.content
    order = response.json()
    assert amounts(order, "subtotal", "shipping", "tax", "total") == amounts(
        quote, "subtotal", "shipping_price", "tax", "total"
    )
    assert [(line["sku"], line["tax_rate"], line["tax"], line["total"]) for line in order["lines"]] == [
        (line["sku"], line["tax_rate"], line["tax"], line["total"]) for line in quote["lines"]
    ]
    assert order["tax_breakdown"] == quote["tax_breakdown"]
    assert order["shipping_method"] == quote["shipping"]["method"] == "standard"


def test_a_country_and_a_method_can_be_asked_for(customer: tuple[User, APIClient]) -> None:
    _, client = customer
    express = pricing.method(pricing.zone("France", ["FR"]), "fr-express", flat="12.00")

    quote = client.get(CART, {"country": "FR", "shipping_method": express.code}).json()["quote"]

    assert quote["destination"]["country"] == "FR"
    assert quote["shipping"]["method"] == "fr-express" and quote["shipping"]["price"]["amount"] == "12.00"
    assert [line["tax_rate"] for line in quote["lines"]] == ["20.00", "5.50"]


def test_a_guest_gets_an_estimate_and_an_empty_cart_no_quote(api_client: APIClient) -> None:
    assert api_client.get(CART).json()["quote"] is None
    variant = VariantFactory.create(sku=f"MUG-{uuid.uuid4().hex[:6]}", price_amount=Decimal("8.00"), stock=5)
    token = api_client.post(f"{CART}lines/", {"sku": variant.sku}, format="json")["X-Cart-Token"]

    quote = api_client.get(CART, HTTP_X_CART_TOKEN=token).json()["quote"]

    assert quote["estimated"] is True and quote["destination"] is None
    assert quote["total"]["amount"] == str(
        Decimal(quote["subtotal"]["amount"])
        + Decimal(quote["shipping_price"]["amount"])
        + Decimal(quote["tax"]["amount"])
    )


def test_a_tax_rate_change_is_a_warning_on_the_cart_and_a_409_for_the_old_total(
    customer: tuple[User, APIClient],
) -> None:
    _, client = customer
    before = client.get(CART).json()
    assert before["warnings"] == []
    pricing.rate("DE", "standard", "21")

    after = client.get(CART).json()

    tee = before["quote"]["lines"][0]["sku"]
    assert [(w["code"], w["sku"], w["previous_tax_rate"]) for w in after["warnings"]] == [
        ("tax_rate_changed", tee, "19.00")
    ]
    assert after["quote"]["lines"][0]["tax_rate"] == "21.00"
    assert client.get(CART).json()["warnings"] == after["warnings"]  # it stays until checkout
    refused = checkout(client, expected_total=before["quote"]["total"]["amount"])
    problem = assert_problem(refused, 409, "quote_changed")
    assert (problem["expected_total"], problem["total"]) == (
        before["quote"]["total"]["amount"],
        after["quote"]["total"]["amount"],
    )
    assert client.get(ORDERS).json()["results"] == []  # nothing was placed
    assert checkout(client, expected_total=after["quote"]["total"]["amount"]).status_code == 201


def test_a_price_change_is_a_warning_and_a_409_for_the_old_total(customer: tuple[User, APIClient]) -> None:
    _, client = customer
    before = client.get(CART).json()
    tee = before["quote"]["lines"][0]["sku"]
    Variant.objects.filter(sku=tee).update(price_amount=Decimal("35.00"))

    after = client.get(CART).json()

    assert ("price_changed", tee) in [(w["code"], w["sku"]) for w in after["warnings"]]
    assert after["quote"]["total"] != before["quote"]["total"]
    assert_problem(checkout(client, expected_total=before["quote"]["total"]["amount"]), 409, "quote_changed")


def test_an_unavailable_method_is_a_409_on_the_cart_and_at_checkout(customer: tuple[User, APIClient]) -> None:
    _, client = customer
    pricing.method(pricing.zone("France", ["FR"]), "fr-express", flat="12.00")

    problem = assert_problem(client.get(CART, {"shipping_method": "fr-express"}), 409, "shipping_method_unavailable")
    assert problem["available"] == ["standard"]
    assert_problem(checkout(client, shipping_method="fr-express"), 409, "shipping_method_unavailable")
    assert client.get(ORDERS).json()["results"] == []


def test_bad_quote_parameters_are_400(customer: tuple[User, APIClient]) -> None:
    _, client = customer
    assert_problem(client.get(CART, {"country": "XX"}), 400, "validation_error")
    assert_problem(client.get(CART, {"shipping_method": "no spaces"}), 400, "validation_error")
    assert_problem(checkout(client, expected_total="1.234"), 400, "validation_error")


def test_tax_service_down_leaves_the_cart_usable_and_refuses_checkout(
    customer: tuple[User, APIClient], settings: Any
) -> None:
    _, client = customer
    settings.SHOP_TAX_PROVIDER = "http"
    settings.SHOP_TAX_SERVICE_URL = f"http://127.0.0.1:{closed_port()}/"
    settings.SHOP_TAX_SERVICE_TIMEOUT_S = 0.5
    settings.SHOP_TAX_FAIL_CLOSED = True

    cart = client.get(CART)

    assert cart.status_code == 200 and cart.json()["quote"] is None
    assert [w["code"] for w in cart.json()["warnings"]] == ["quote_unavailable"]
    assert len(cart.json()["lines"]) == 2
    assert_problem(checkout(client), 503, "tax_unavailable")
    assert client.get(ORDERS).json()["results"] == []


def _cart_queries(client: APIClient) -> int:
    with CaptureQueriesContext(connections["default"]) as captured:
        others = [CaptureQueriesContext(connections[alias]) for alias in connections if alias != "default"]
        for context in others:
            context.__enter__()
        try:
            response = client.get(CART, {"country": "DE"})
        finally:
            for context in others:
                context.__exit__(None, None, None)
    assert response.status_code == 200 and response.json()["quote"] is not None
    return len(captured.captured_queries) + sum(len(c.captured_queries) for c in others)


def test_the_quoted_cart_costs_the_same_queries_for_1_and_10_lines() -> None:
    skus = [VariantFactory.create(sku=f"Q-{i}-{uuid.uuid4().hex[:6]}", stock=5).sku for i in range(10)]
    one, ten = UserFactory.create(), UserFactory.create()
    fill_cart(one, skus[:1])
    fill_cart(ten, skus)
    one_client, ten_client = client_of(one), client_of(ten)
    _cart_queries(one_client), _cart_queries(ten_client)  # first sight records the rates

    assert _cart_queries(one_client) == _cart_queries(ten_client)


def test_the_quoted_cart_costs_the_same_queries_for_1_and_200_promotions() -> None:
    skus = [VariantFactory.create(sku=f"P-{i}-{uuid.uuid4().hex[:6]}", stock=5).sku for i in range(3)]
    user = UserFactory.create()
    fill_cart(user, skus)
    client = client_of(user)
    Promotion.objects.create(name="p", label="p", everything=True, value=Decimal("1"))
    _cart_queries(client)  # first sight records the rates
    one = _cart_queries(client)
    Promotion.objects.bulk_create(
        Promotion(name=f"p{i}", label=f"p{i}", everything=True, value=Decimal("0.5")) for i in range(199)
    )

    assert _cart_queries(client) == one
    assert len(client.get(CART).json()["quote"]["lines"][0]["discounts"]) == 200  # they all apply


def test_a_gross_shop_charges_the_shelf_price_and_shows_the_tax_inside_it(
    customer: tuple[User, APIClient], settings: Any
) -> None:
    settings.SHOP_PRICES_INCLUDE_TAX = True
    settings.SHOP_TAX_ORIGIN_COUNTRY = "DE"
    _, client = customer
    quote = client.get(CART).json()["quote"]
    assert amounts(quote, "subtotal", "shipping_price", "total") == ("49.98", "4.90", "54.88")  # tax included

    order = checkout(client, expected_total="54.88").json()

    assert (order["prices_include_tax"], order["total"]["amount"], order["tax"]["amount"]) == (
        True,
        "54.88",
        quote["tax"]["amount"],
    )
    page = client.get(f"{ORDERS}{order['id']}/").json()
    assert page["tax_breakdown"] == quote["tax_breakdown"]
