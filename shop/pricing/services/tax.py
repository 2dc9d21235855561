"""Where a quote's rates come from: the configured ``TaxProvider`` (``SHOP_TAX_PROVIDER``), and what
happens when an external one cannot answer.

``SHOP_TAX_FAIL_CLOSED`` (the default) refuses the quote with 503 ``tax_unavailable``: checkout must
never place an order with a wrong tax. Off, the admin's table answers instead and the quote says so
(``tax_source``), for shops that prefer selling at their own rates to not selling.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from decimal import Decimal

from django.conf import settings

from shop.pricing import api, selectors
from shop.pricing.adapters.base import RatesByClass, TaxPlace, TaxProvider, TaxServiceError
from shop.pricing.adapters.http import HttpTaxProvider
from shop.pricing.adapters.table import TableTaxProvider

FALLBACK_SOURCE = "table (service unavailable)"
_CENT = Decimal("0.01")
_providers: dict[tuple[object, ...], TaxProvider] = {}
_lock = threading.Lock()


def table_provider() -> TableTaxProvider:
    return TableTaxProvider(read=selectors.tax_rate_rows)


def provider() -> TaxProvider:
    """The configured provider, built once per configuration (its HTTP client keeps its connections)."""
    key: tuple[object, ...] = (
        settings.SHOP_TAX_PROVIDER,
        settings.SHOP_TAX_SERVICE_URL,
        settings.SHOP_TAX_SERVICE_TOKEN,
        settings.SHOP_TAX_SERVICE_TIMEOUT_S,
    )
    with _lock:
        if key not in _providers:
            _providers[key] = (
                HttpTaxProvider(
                    url=settings.SHOP_TAX_SERVICE_URL,
                    token=settings.SHOP_TAX_SERVICE_TOKEN,
                    timeout_s=settings.SHOP_TAX_SERVICE_TIMEOUT_S,
                )
                if settings.SHOP_TAX_PROVIDER == "http"
                else table_provider()
            )
        return _providers[key]


def percentage(rate: Decimal) -> Decimal:
    """One spelling per rate in quotes ("19.00", "5.50", "8.875"), whatever the source wrote."""
    cents = rate.quantize(_CENT)
    return cents if cents == rate else rate.normalize()


def rates(*, places: Sequence[TaxPlace], tax_classes: Collection[str]) -> tuple[dict[TaxPlace, RatesByClass], str]:
    """The rates of every place and class, and the name of the source that gave them."""
    chosen = provider()
    try:
        answer, source = chosen.rates(places=places, tax_classes=tax_classes), chosen.name
    except TaxServiceError as exc:
        if settings.SHOP_TAX_FAIL_CLOSED:
            raise api.TaxUnavailable("The tax service is not answering; nothing was priced.") from exc
        answer, source = table_provider().rates(places=places, tax_classes=tax_classes), FALLBACK_SOURCE
    normalised = {place: {c: percentage(r) for c, r in by_class.items()} for place, by_class in answer.items()}
    return normalised, source
