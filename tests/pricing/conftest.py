"""Fixtures shared by the pricing tests: the two ways a shop enters prices, and the API as bound."""

from __future__ import annotations

from typing import Any

import pytest

from shop import registry
from shop.pricing.adapters import http as http_adapter
from shop.pricing.api import PricingAPI


@pytest.fixture(autouse=True)
def _closed_tax_breakers() -> None:
    http_adapter.reset_breakers()


@pytest.fixture(autouse=True)
def _eu_rates_only(request: pytest.FixtureRequest) -> None:
    """Pricing's own tests price against the seeded EU table alone: the rest-of-world rate migration 0004
    adds (checkout's old 20 %, kept for shops upgrading) is removed, except in a module that tests the
    migrated configuration itself (``KEEP_MIGRATED_RATES = True``)."""
    if getattr(request.module, "KEEP_MIGRATED_RATES", False) or request.node.get_closest_marker("django_db") is None:
        return
    from shop.pricing.models import TaxRate

    request.getfixturevalue("db")
    TaxRate.objects.filter(country="").delete()


@pytest.fixture
def gross(settings: Any) -> None:
    """An EU shop: prices include German VAT."""
    settings.SHOP_PRICES_INCLUDE_TAX = True
    settings.SHOP_TAX_ORIGIN_COUNTRY = "DE"


@pytest.fixture
def net(settings: Any) -> None:
    """A US-style shop: prices without tax, tax on top; the shop itself is in the US."""
    settings.SHOP_PRICES_INCLUDE_TAX = False
    settings.SHOP_TAX_ORIGIN_COUNTRY = "US"


@pytest.fixture
def pricing(db: None) -> PricingAPI:
    """The API as the registry binds it (local, or the HTTP client with SHOP_REMOTE_CONTEXTS)."""
    return registry.get(PricingAPI)
