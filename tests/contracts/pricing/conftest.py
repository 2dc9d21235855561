from __future__ import annotations

import pytest

from shop.pricing.adapters import http as http_adapter
from shop.pricing.api import PricingAPI
from tests.contracts.kit import bound


@pytest.fixture
def pricing_api(binding: str, db: None) -> PricingAPI:
    http_adapter.reset_breakers()
    return bound(PricingAPI, binding)
