"""Fixtures shared by the payments tests: an order awaiting payment, and paying it over HTTP."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.orders.models import Order
from shop.payments.adapters import calls
from shop.users.models import User
from tests.factories import UserFactory
from tests.orders import conftest as orders_fixtures
from tests.orders.conftest import client_of, fill_cart, place

stocked = orders_fixtures.stocked  # the orders tests' fixture, shared


@pytest.fixture(autouse=True)
def _closed_breakers(settings: Any) -> Iterator[None]:
    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    settings.SHOP_GATEWAY_BACKOFF_S = 0.001  # retries stay bounded and fast
    calls.reset_breakers()
    yield
    calls.reset_breakers()


@pytest.fixture
def order_for(stocked: Callable[..., list[str]]) -> Callable[..., tuple[Order, APIClient]]:
    """``order_for()``: a new customer's order (2 units of one SKU) awaiting payment, and their client."""

    def make(user: User | None = None) -> tuple[Order, APIClient]:
        (sku,) = stocked(1)
        customer = user or UserFactory.create()
        fill_cart(customer, [sku], quantity=2)
        client = client_of(customer)
        response = place(client)
        assert response.status_code == 201, response.content
        return Order.objects.get(pk=response.json()["id"]), client

    return make


def pay(client: APIClient, order: Order, token: str, key: str | None = None, **extra: Any) -> Any:
    return client.post(
        f"/api/v1/orders/{order.pk}/pay/",
        {"token": token, **extra},
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or str(uuid.uuid4()),
    )
