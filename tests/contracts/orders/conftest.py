from __future__ import annotations

import pytest

from shop.orders.api import OrdersAPI
from tests.contracts.kit import bound
from tests.orders.conftest import stocked  # noqa: F401  (a fixture the contract suite shares)


@pytest.fixture
def orders_api(binding: str, db: None) -> OrdersAPI:
    return bound(OrdersAPI, binding)
