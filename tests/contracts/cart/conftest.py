from __future__ import annotations

import pytest

from shop.cart.api import CartAPI
from tests.contracts.kit import bound


@pytest.fixture
def cart_api(binding: str, db: None) -> CartAPI:
    return bound(CartAPI, binding)
