"""Fixtures shared by the orders tests: customers with filled carts, and checkout calls."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.cart import services as cart_services
from shop.cart.api import Owner
from shop.users.models import User
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.factories import UserFactory

ORDERS = "/api/v1/orders/"
ADDRESS = {
    "full_name": "Ada Lovelace",
    "line1": "12 Analytical Row",
    "city": "London",
    "postal_code": "W1 2AB",
    "country": "GB",
}


def order_url(order_id: int, action: str = "") -> str:
    return f"{ORDERS}{order_id}/{action + '/' if action else ''}"


def place(client: APIClient, key: str | None = None, body: dict[str, Any] | None = None) -> Any:
    body = body if body is not None else {"shipping_address": ADDRESS}
    return client.post(ORDERS, body, format="json", HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()))


@pytest.fixture
def stocked(db: None) -> Callable[..., list[str]]:
    """``stocked(n, stock=10, price="10.00")``: n active SKUs of one product."""

    def make(count: int, *, stock: int = 10, price: str = "10.00") -> list[str]:
        product = ProductFactory.create(name="Wool Socks")
        return [
            VariantFactory.create(
                product=product,
                sku=f"SOCK-{uuid.uuid4().hex[:8]}",
                name=f"Size {i}",
                price_amount=Decimal(price),
                stock=stock,
            ).sku
            for i in range(count)
        ]

    return make


def fill_cart(user: User, skus: list[str], quantity: int = 1) -> None:
    for sku in skus:
        cart_services.add_line(owner=Owner(user_id=user.pk), sku=sku, quantity=quantity)


def client_of(user: User) -> APIClient:
    """Authenticated without the login endpoint, so many shoppers do not trip the login throttle
    (real JWT logins are covered by the users and cart tests)."""
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def shopper(db: None) -> Callable[..., tuple[User, APIClient]]:
    """``shopper(skus, quantity=1)``: a signed-in customer whose cart holds those SKUs."""

    def make(skus: list[str], quantity: int = 1) -> tuple[User, APIClient]:
        user = UserFactory.create()
        fill_cart(user, skus, quantity)
        return user, client_of(user)

    return make
