"""Fixtures shared by the cart tests: SKUs to put in carts, customers, and guest clients."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest
from rest_framework.test import APIClient

from shop.catalog.models import Variant
from tests.catalog.factories import ProductFactory, VariantFactory

CART = "/api/v1/cart/"
LINES = "/api/v1/cart/lines/"


def line_url(sku: str) -> str:
    return f"{LINES}{sku}/"


@pytest.fixture
def skus(db: None) -> Callable[[int], list[str]]:
    """``skus(n)``: n active SKUs priced 10.00, 11.00, … with 50 units each."""

    def make(count: int) -> list[str]:
        product = ProductFactory.create(name="Merino Tee")
        made: list[Variant] = [
            VariantFactory.create(product=product, sku=f"TEE-{i:03d}", price_amount=Decimal(10 + i), stock=50)
            for i in range(count)
        ]
        return [variant.sku for variant in made]

    return make


def guest(token: str | None = None) -> APIClient:
    client = APIClient()
    if token:
        client.credentials(HTTP_X_CART_TOKEN=token)
    return client


def add(client: APIClient, sku: str, quantity: int = 1, **extra: Any) -> Any:
    return client.post(LINES, {"sku": sku, "quantity": quantity, **extra}, format="json")
