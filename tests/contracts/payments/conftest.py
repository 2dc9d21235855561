from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shop.payments.adapters import calls
from shop.payments.api import PaymentsAPI
from tests.contracts.kit import bound


@pytest.fixture
def payments_api(binding: str, db: None, settings: Any) -> Iterator[PaymentsAPI]:
    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    settings.SHOP_GATEWAY_BACKOFF_S = 0.001
    calls.reset_breakers()
    yield bound(PaymentsAPI, binding)
    calls.reset_breakers()
