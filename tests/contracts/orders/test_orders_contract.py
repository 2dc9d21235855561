"""The ``OrdersAPI`` contract, run against the local service and over HTTP (fixture ``binding``):
what notifications reads about an order (customer, lines, totals as Money, status, history) does
not depend on the binding."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from shop.kernel import Money
from shop.orders.api import (
    MAX_ORDERS_PER_CALL,
    ActorKind,
    Order,
    OrderLine,
    OrderNotFound,
    OrdersAPI,
    ShippingAddress,
    StatusChange,
    TaxTotal,
)
from shop.orders.services import OrdersService, checkout, idempotency, lifecycle
from tests.contracts.kit import assert_implements, method_queries
from tests.factories import UserFactory
from tests.helpers import connection_of
from tests.orders.conftest import ADDRESS, fill_cart
from tests.pricing import factories as pricing_factories

EUR = "EUR"


def _implementations_satisfy_the_protocol() -> None:
    """Never called: mypy checks this assignment, so a signature drifting from ``OrdersAPI`` fails CI."""
    impl: OrdersAPI = OrdersService()
    del impl


def test_implementations_have_the_protocols_signatures() -> None:
    assert_implements(OrdersAPI, OrdersService)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), EUR)


@pytest.fixture
def placed(stocked: Callable[..., list[str]]) -> Order:
    pricing_factories.rate("", "standard", "10")  # GB has no rates of its own: the rest of the world's
    pricing_factories.standard_shipping(flat="5.00", free_over="100.00")
    sku, other = stocked(2, price="12.50")
    user = UserFactory.create()
    fill_cart(user, [sku], quantity=2)
    fill_cart(user, [other], quantity=1)
    return checkout.checkout(
        customer_id=user.pk,
        idempotency_key="contract-1",
        request_fingerprint=idempotency.fingerprint({"shipping_address": ADDRESS}),
        shipping_address=ShippingAddress(line2="", region="", phone="", **ADDRESS),
    ).order


def test_get_order_round_trips_the_dto_with_money(orders_api: OrdersAPI, placed: Order) -> None:
    got = orders_api.get_order(order_id=placed.id)

    assert type(got) is Order and got == placed
    assert got.status == "pending_payment" and got.number.startswith("SO-")
    assert [type(line) for line in got.lines] == [OrderLine, OrderLine]
    assert [(line.quantity, line.unit_price, line.line_total) for line in got.lines] == [
        (2, eur("12.50"), eur("25.00")),
        (1, eur("12.50"), eur("12.50")),
    ]
    assert (got.subtotal, got.shipping, got.tax, got.total) == (eur("37.50"), eur("5.00"), eur("4.25"), eur("46.75"))
    assert [(line.tax_rate, line.net, line.tax, line.total) for line in got.lines] == [
        (Decimal("10.0000"), eur("25.00"), eur("2.50"), eur("27.50")),
        (Decimal("10.0000"), eur("12.50"), eur("1.25"), eur("13.75")),
    ]
    assert got.tax_breakdown == [TaxTotal(rate=Decimal("10.0000"), net=eur("42.50"), tax=eur("4.25"))]
    assert (got.shipping_method, got.prices_include_tax, got.discount) == ("standard", False, eur("0.00"))
    assert type(got.total.amount) is Decimal
    assert got.shipping_address.city == "London" and got.payment_due_by is not None
    assert got.history == [
        StatusChange(
            from_status="",
            to_status="pending_payment",
            at=got.history[0].at,
            actor=ActorKind.CUSTOMER,
            actor_id=got.customer_id,
            note="",
        )
    ]


def test_get_order_follows_the_lifecycle(orders_api: OrdersAPI, placed: Order) -> None:
    lifecycle.mark_paid(order_id=placed.id)
    lifecycle.fulfil(
        order_id=placed.id, carrier="DHL", tracking_number="JD42", actor=lifecycle.Actor(kind=ActorKind.STAFF, id=3)
    )
    got = orders_api.get_order(order_id=placed.id)
    assert (got.status, got.carrier, got.tracking_number, got.payment_due_by) == ("fulfilled", "DHL", "JD42", None)
    assert [(h.to_status, h.actor, h.actor_id) for h in got.history][1:] == [
        ("paid", "payments", None),
        ("fulfilled", "staff", 3),
    ]


def test_a_missing_order_is_not_found_and_named_an_order(orders_api: OrdersAPI) -> None:
    with pytest.raises(OrderNotFound) as missing:
        orders_api.get_order(order_id=987654)
    assert type(missing.value) is OrderNotFound and missing.value.status == 404
    assert (missing.value.code, missing.value.resource) == ("not_found", "order")


def test_get_orders_keeps_the_callers_order_in_fixed_queries(orders_api: OrdersAPI, placed: Order) -> None:
    with method_queries(connection_of("orders"), at_most=3):
        got = orders_api.get_orders(order_ids=[987654, placed.id, placed.id])
    assert [o.id for o in got] == [placed.id]
    assert orders_api.get_orders(order_ids=[]) == []
    with pytest.raises(Exception) as too_many:
        orders_api.get_orders(order_ids=list(range(MAX_ORDERS_PER_CALL + 1)))
    assert getattr(too_many.value, "code", None) == "validation_error"


def test_status_page_url_is_a_signed_link_on_the_public_url(
    orders_api: OrdersAPI, placed: Order, settings: Any
) -> None:
    from shop.orders.services import status_page

    settings.SHOP_PUBLIC_URL = "http://127.0.0.1:8310"

    url = orders_api.status_page_url(order_id=placed.id)

    prefix = "http://127.0.0.1:8310/orders/status/"
    assert url.startswith(prefix) and url.endswith("/"), url
    assert status_page.order_id_from(url.removeprefix(prefix).rstrip("/")) == placed.id
    with pytest.raises(OrderNotFound):
        orders_api.status_page_url(order_id=987654)
