"""Shipping configuration for pricing tests (tests live outside ``shop``, so they may write rows)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from shop.pricing.models import ShippingBand, ShippingMethod, ShippingZone, TaxClass, TaxRate


def zone(name: str, countries: Sequence[str] = (), prefixes: str = "") -> ShippingZone:
    # CountryField(multiple=True) takes a list of codes; django-countries' stub types it as one string.
    chosen: Any = list(countries)
    return ShippingZone.objects.create(name=name, countries=chosen, postal_code_prefixes=prefixes)


def method(
    in_zone: ShippingZone,
    code: str,
    *,
    flat: str = "0",
    pricing: str = "flat",
    free_over: str | None = None,
    bands: Sequence[tuple[str | None, str]] = (),
    position: int = 0,
    name: str = "",
    estimate: str = "",
    is_active: bool = True,
) -> ShippingMethod:
    created = ShippingMethod.objects.create(
        zone=in_zone,
        code=code,
        name=name or code.replace("-", " ").title(),
        delivery_estimate=estimate,
        pricing=pricing,
        flat_price=Decimal(flat),
        free_over=Decimal(free_over) if free_over is not None else None,
        position=position,
        is_active=is_active,
    )
    ShippingBand.objects.bulk_create(
        ShippingBand(method=created, up_to=Decimal(up_to) if up_to is not None else None, price=Decimal(price))
        for up_to, price in bands
    )
    return created


def rate(country: str, tax_class: str, percent: str) -> TaxRate:
    """Set (or change) the rate of a class in a country ("" is every country without rates of its own)."""
    row, _ = TaxRate.objects.update_or_create(
        country=country, tax_class=TaxClass.objects.get(code=tax_class), defaults={"rate": Decimal(percent)}
    )
    return row


def standard_shipping(*, flat: str, free_over: str | None) -> ShippingMethod:
    """Reprice the migrated "standard" method (worldwide, flat 4.90, free from 50.00)."""
    standard = ShippingMethod.objects.get(code="standard")
    standard.flat_price = Decimal(flat)
    standard.free_over = Decimal(free_over) if free_over is not None else None
    standard.save(update_fields=["flat_price", "free_over"])
    return standard
