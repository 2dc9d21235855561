"""Checkout as a customer sees it: the cart becomes an order with snapshotted prices and totals,
stock is held, the cart is emptied; a retry with the same key is the same order; bad requests
change nothing."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.cart.models import CartLine
from shop.catalog.models import Stock, Variant
from shop.orders.models import Order
from shop.users.models import User
from tests.helpers import assert_problem, outbox
from tests.orders.conftest import ADDRESS, ORDERS, place
from tests.pricing import factories as pricing_factories

pytestmark = pytest.mark.django_db

Shopper = Callable[..., tuple[User, APIClient]]
Stocked = Callable[..., list[str]]


def stock_of(sku: str) -> tuple[int, int]:
    row = Stock.objects.get(variant__sku=sku)
    return row.on_hand, row.reserved


def test_checkout_turns_the_cart_into_an_order(stocked: Stocked, shopper: Shopper) -> None:
    """Priced by pricing's migrated defaults, which reproduce checkout before pricing: the "standard"
    method (4.90, free from 50.00) and 20 % tax on goods and shipping to a country without rates (GB)."""
    first, second = stocked(2, price="10.00")
    user, client = shopper([first, second], quantity=2)

    response = place(client)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["status"] == "pending_payment"
    assert body["number"].startswith("SO-") and len(body["number"]) == 12
    assert [(line["sku"], line["quantity"], line["line_total"]["amount"]) for line in body["lines"]] == [
        (first, 2, "20.00"),
        (second, 2, "20.00"),
    ]
    assert (body["subtotal"]["amount"], body["shipping"]["amount"], body["tax"]["amount"], body["total"]["amount"]) == (
        "40.00",
        "4.90",
        "8.98",
        "53.88",
    )
    assert [
        (line["tax_rate"], line["net"]["amount"], line["tax"]["amount"], line["total"]["amount"])
        for line in body["lines"]
    ] == [
        ("20.00", "20.00", "4.00", "24.00"),
        ("20.00", "20.00", "4.00", "24.00"),
    ]
    assert (body["shipping_method"], body["prices_include_tax"]) == ("standard", False)
    assert [(row["rate"], row["net"]["amount"], row["tax"]["amount"]) for row in body["tax_breakdown"]] == [
        ("20.00", "44.90", "8.98")
    ]
    assert body["shipping_address"]["full_name"] == "Ada Lovelace"
    assert body["payment_due_by"] is not None
    assert [(h["from_status"], h["to_status"], h["actor"]) for h in body["history"]] == [
        ("", "pending_payment", "customer")
    ]
    assert stock_of(first) == (10, 2) and stock_of(second) == (10, 2)
    assert CartLine.objects.filter(cart__user_id=user.pk).count() == 0
    placed = outbox("orders").filter(topic="orders.OrderPlaced")
    assert placed.count() == 1
    # Prices are snapshots: a later catalog change does not touch the order.
    Variant.objects.filter(sku=first).update(price_amount=Decimal("99.00"))
    assert client.get(f"{ORDERS}{body['id']}/").json()["lines"][0]["unit_price"]["amount"] == "10.00"


def test_free_shipping_over_the_threshold(stocked: Stocked, shopper: Shopper) -> None:
    pricing_factories.rate("", "standard", "0")  # no tax elsewhere: the total is the goods
    (sku,) = stocked(1, price="25.00")
    _, client = shopper([sku], quantity=2)
    body = place(client).json()
    assert (body["shipping"]["amount"], body["total"]["amount"]) == ("0.00", "50.00")


def test_the_same_key_and_body_is_the_same_order(stocked: Stocked, shopper: Shopper) -> None:
    (sku,) = stocked(1)
    _, client = shopper([sku])
    first = place(client, key="checkout-1")
    again = place(client, key="checkout-1")
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Order.objects.count() == 1
    assert stock_of(sku) == (10, 1)


def test_the_same_key_with_another_body_is_refused(stocked: Stocked, shopper: Shopper) -> None:
    (sku,) = stocked(1)
    _, client = shopper([sku])
    place(client, key="checkout-1")
    other = {"shipping_address": {**ADDRESS, "city": "Paris", "country": "FR"}}
    assert_problem(place(client, key="checkout-1", body=other), 422, "idempotency_key_reused")
    assert Order.objects.count() == 1


@pytest.mark.parametrize(
    ("headers", "body", "status", "code"),
    [
        ({}, {"shipping_address": ADDRESS}, 400, "idempotency_key_required"),
        ({"HTTP_IDEMPOTENCY_KEY": "k" * 256}, {"shipping_address": ADDRESS}, 400, "idempotency_key_required"),
        ({"HTTP_IDEMPOTENCY_KEY": "k1"}, {}, 400, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k1"}, {"shipping_address": {**ADDRESS, "country": "gb"}}, 400, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k1"}, {"shipping_address": ADDRESS, "total": "0.01"}, 400, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k1"}, {"shipping_address": ADDRESS, "status": "paid"}, 400, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k1"}, {"shipping_address": ADDRESS, "customer_id": 1}, 400, "validation_error"),
        ({"HTTP_IDEMPOTENCY_KEY": "k1"}, {"address_id": 999999}, 404, "not_found"),
    ],
)
def test_bad_checkouts_are_problems_and_change_nothing(
    stocked: Stocked, shopper: Shopper, headers: dict[str, str], body: dict[str, Any], status: int, code: str
) -> None:
    (sku,) = stocked(1)
    user, client = shopper([sku])
    assert_problem(client.post(ORDERS, body, format="json", **headers), status, code)
    assert Order.objects.count() == 0
    assert stock_of(sku) == (10, 0)
    assert CartLine.objects.filter(cart__user_id=user.pk).count() == 1


def test_an_empty_cart_cannot_be_checked_out(shopper: Shopper) -> None:
    _, client = shopper([])
    assert_problem(place(client), 409, "cart_empty")


def test_not_enough_stock_is_a_clear_conflict(stocked: Stocked, shopper: Shopper) -> None:
    (sku,) = stocked(1, stock=1)
    _, client = shopper([sku], quantity=2)
    problem = assert_problem(place(client), 409, "out_of_stock")
    assert problem["shortages"] == [{"sku": sku, "requested": 2, "available": 1}]
    assert Order.objects.count() == 0 and stock_of(sku) == (1, 0)


def test_a_withdrawn_item_blocks_checkout_until_removed(stocked: Stocked, shopper: Shopper) -> None:
    sold, withdrawn = stocked(2)
    _, client = shopper([sold, withdrawn])
    Variant.objects.filter(sku=withdrawn).update(is_active=False)
    assert assert_problem(place(client), 409, "items_unavailable")["skus"] == [withdrawn]
    client.delete(f"/api/v1/cart/lines/{withdrawn}/")
    assert place(client).status_code == 201


def test_an_address_from_the_book(stocked: Stocked, shopper: Shopper) -> None:
    (sku,) = stocked(1)
    _, client = shopper([sku])
    book = client.post("/api/v1/users/me/addresses/", {**ADDRESS, "city": "Bath"}, format="json")
    assert book.status_code == 201, book.content
    placed = place(client, body={"address_id": book.json()["id"]})
    assert placed.status_code == 201 and placed.json()["shipping_address"]["city"] == "Bath"


def test_a_fault_after_the_reservation_leaves_stock_and_no_order(
    stocked: Stocked, shopper: Shopper, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, second = stocked(2)
    user, client = shopper([first, second])

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr("shop.orders.models.OrderLine.objects.bulk_create", broken)
    with pytest.raises(RuntimeError):
        place(client)
    assert Order.objects.count() == 0
    assert stock_of(first) == (10, 0) and stock_of(second) == (10, 0)
    assert CartLine.objects.filter(cart__user_id=user.pk).count() == 2
    assert outbox("orders").filter(topic="orders.OrderPlaced").count() == 0


def test_a_lost_catalog_answer_is_a_503_with_retry_after_and_leaves_nothing_behind(
    stocked: Stocked, shopper: Shopper, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The worst case of a remote call: it reserved, then the answer was lost on the way back.
    Injected on the caller's side of the binding, so it holds in every CI mode (local or remote)."""
    from shop import registry
    from shop.catalog.api import CatalogAPI
    from shop.kernel import ContextUnavailable

    real_get = registry.get

    class AnswerLost:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        def reserve(self, **kwargs: Any) -> Any:
            self.inner.reserve(**kwargs)
            raise ContextUnavailable("catalog", "read timed out", retry_after=7)

    def lossy_get(protocol: Any) -> Any:
        found = real_get(protocol)
        return AnswerLost(found) if protocol is CatalogAPI else found

    monkeypatch.setattr(registry, "get", lossy_get)
    (sku,) = stocked(1)
    user, client = shopper([sku], quantity=2)

    response = place(client, key="lost-answer")

    assert_problem(response, 503, "context_unavailable")
    assert response["Retry-After"] == "7"
    assert Order.objects.count() == 0
    assert stock_of(sku) == (10, 0)  # the compensation released what the lost call held
    assert CartLine.objects.filter(cart__user_id=user.pk).count() == 1
    monkeypatch.setattr(registry, "get", real_get)
    assert place(client, key="lost-answer").status_code == 201  # the client's retry goes through
