"""Vouchers from the customer's side (issue 16): apply and remove a code on the cart, a stable error for each
refusal, guessing throttled, checkout holding a use with the order (compensated when it fails), and
cancelling or expiring the order giving the use back. The limits under concurrency: 50 checkouts, 5 uses."""

from __future__ import annotations

import os
import uuid
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from shop.catalog.models import Stock
from shop.orders.services import lifecycle
from shop.pricing.models import Promotion, Voucher
from shop.users.models import User
from tests.catalog.factories import VariantFactory
from tests.factories import UserFactory
from tests.helpers import assert_problem
from tests.orders.conftest import ADDRESS, ORDERS, client_of, fill_cart
from tests.orders.test_checkout_concurrency import at_once

CART = "/api/v1/cart/"
VOUCHERS = "/api/v1/cart/vouchers/"


def voucher(code: str, *, skus: str = "", **fields: Any) -> Voucher:
    promotion = Promotion.objects.create(
        name=code,
        label=f"{code}: -10 %",
        kind="catalogue" if skus else "order",
        benefit="percentage",
        value=Decimal("10"),
        skus=skus,
        requires_voucher=True,
    )
    return Voucher.objects.create(code=code, promotion=promotion, **fields)


def customer(price: str = "40.00") -> tuple[User, APIClient, str]:
    sku = str(VariantFactory.create(price_amount=Decimal(price), stock=100).sku)
    user = UserFactory.create()
    fill_cart(user, [sku])
    return user, client_of(user), sku


def checkout(client: APIClient) -> Any:
    return client.post(ORDERS, {"shipping_address": ADDRESS}, format="json", HTTP_IDEMPOTENCY_KEY=str(uuid.uuid4()))


def used(code: str) -> int:
    return Voucher.objects.get(code=code).used


@pytest.mark.django_db
def test_a_code_is_applied_shown_in_the_quote_and_removed() -> None:
    voucher("WELCOME-10")
    _, client, _ = customer()

    applied = client.post(VOUCHERS, {"code": "welcome-10"}, format="json")

    assert applied.status_code == 200, applied.content
    assert applied.json()["voucher_codes"] == ["WELCOME-10"]
    quote = client.get(CART).json()["quote"]
    assert [(v["code"], v["discount"]["amount"]) for v in quote["vouchers"]] == [("WELCOME-10", "4.00")]
    assert quote["discount"]["amount"] == "4.00"
    assert client.delete(f"{VOUCHERS}WELCOME-10/").json()["voucher_codes"] == []
    assert client.get(CART).json()["quote"]["discount"]["amount"] == "0.00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("setup", "code", "status", "problem"),
    [
        ({}, "NOPE", 404, "voucher_unknown"),
        ({"usage_limit": 1, "used": 1}, "FULL", 409, "voucher_exhausted"),
        ({"min_subtotal": Decimal("100")}, "BIG", 409, "voucher_min_subtotal"),
        ({"skus": "OTHER-SKU"}, "ELSEWHERE", 409, "voucher_not_applicable"),  # takes nothing off this cart
    ],
)
def test_each_refusal_has_its_code_and_changes_nothing(
    setup: dict[str, Any], code: str, status: int, problem: str
) -> None:
    if code != "NOPE":
        voucher(code, **setup)
    _, client, _ = customer()
    before = client.get(CART).json()

    assert_problem(client.post(VOUCHERS, {"code": code}, format="json"), status, problem)

    after = client.get(CART).json()
    assert (after["version"], after["voucher_codes"]) == (before["version"], [])


@pytest.mark.django_db
def test_guessing_codes_is_throttled_per_customer(monkeypatch: pytest.MonkeyPatch) -> None:
    # DRF copies the rates onto the class at import: patch the class (as tests/web/conftest.py does).
    monkeypatch.setattr(SimpleRateThrottle, "THROTTLE_RATES", {**SimpleRateThrottle.THROTTLE_RATES, "voucher": "3/min"})
    _, client, _ = customer()
    _, other, _ = customer()

    statuses = [client.post(VOUCHERS, {"code": f"GUESS-{i}"}, format="json").status_code for i in range(4)]

    assert statuses == [404, 404, 404, 429]
    assert other.post(VOUCHERS, {"code": "GUESS-9"}, format="json").status_code == 404  # not their allowance


@pytest.mark.django_db(transaction=True)  # the cancellation's give-back runs from the outbox, after commit
def test_checkout_holds_a_use_and_cancelling_the_order_gives_it_back() -> None:
    voucher("ONCE", usage_limit=1)
    _, client, _ = customer()
    assert client.post(VOUCHERS, {"code": "ONCE"}, format="json").status_code == 200

    placed = checkout(client)

    assert placed.status_code == 201, placed.content
    order = placed.json()
    assert order["discount"]["amount"] == "4.00" and used("ONCE") == 1
    assert client.get(CART).json()["voucher_codes"] == []  # spent with the order
    _, other, _ = customer()
    assert_problem(other.post(VOUCHERS, {"code": "ONCE"}, format="json"), 409, "voucher_exhausted")

    assert client.post(f"{ORDERS}{order['id']}/cancel/", format="json").status_code == 200
    assert used("ONCE") == 0
    assert other.post(VOUCHERS, {"code": "ONCE"}, format="json").status_code == 200


@pytest.mark.django_db(transaction=True)
def test_an_expired_order_gives_its_use_back() -> None:
    voucher("LATE", usage_limit=1)
    _, client, _ = customer()
    client.post(VOUCHERS, {"code": "LATE"}, format="json")
    order = checkout(client).json()
    assert used("LATE") == 1

    lifecycle.expire(order_id=order["id"])

    assert used("LATE") == 0


@pytest.mark.django_db
def test_a_code_used_up_between_cart_and_checkout_places_nothing_and_holds_no_stock() -> None:
    code = voucher("LAST", usage_limit=1)
    _, client, sku = customer()
    client.post(VOUCHERS, {"code": "LAST"}, format="json")
    Voucher.objects.filter(pk=code.pk).update(used=1)  # someone else's order took it meanwhile

    cart = client.get(CART).json()
    assert [w["code"] for w in cart["warnings"]] == ["voucher_not_applied"]  # the cart says so before checkout
    assert_problem(checkout(client), 409, "voucher_exhausted")

    assert client.get(ORDERS).json()["results"] == []
    assert Stock.objects.get(variant__sku=sku).reserved == 0


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(bool(os.environ.get("SHOP_REMOTE_CONTEXTS")), reason="in-process transport + threads")
def test_50_concurrent_checkouts_with_a_code_limited_to_5_place_5_orders_with_it() -> None:
    voucher("RUSH", usage_limit=5)
    customers = [customer() for _ in range(50)]
    for _, client, _ in customers:
        assert client.post(VOUCHERS, {"code": "RUSH"}, format="json").status_code == 200

    responses = at_once(50, lambda i: checkout(customers[i][1]))

    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(201) == 5 and statuses.count(409) == 45, statuses
    assert {r.json()["code"] for r in responses if r.status_code == 409} == {"voucher_exhausted"}
    assert used("RUSH") == 5
    assert sum(Stock.objects.filter(variant__sku__in=[c[2] for c in customers]).values_list("reserved", flat=True)) == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(bool(os.environ.get("SHOP_REMOTE_CONTEXTS")), reason="in-process transport + threads")
def test_10_concurrent_checkouts_of_one_customer_with_a_once_per_customer_code_use_it_once() -> None:
    voucher("ONCE-EACH", per_customer_limit=1)
    user, client, _ = customer()
    assert client.post(VOUCHERS, {"code": "ONCE-EACH"}, format="json").status_code == 200
    clients = [client_of(user) for _ in range(10)]  # ten tabs, each its own key: ten different checkouts

    responses = at_once(10, lambda i: checkout(clients[i]))

    placed = [r.json() for r in responses if r.status_code == 201]
    with_code = [order for order in placed if order["voucher_codes"] == ["ONCE-EACH"]]
    refused = [r.json()["code"] for r in responses if r.status_code == 409]
    assert len(with_code) == 1 and used("ONCE-EACH") == 1, [r.status_code for r in responses]
    assert set(refused) <= {"voucher_exhausted", "cart_empty"} and len(placed) + len(refused) == 10
