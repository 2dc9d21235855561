"""What the migrations put in place: the five tax classes, the EU member states' VAT rates (and
nothing for anyone else), and one worldwide method priced as checkout priced shipping before."""

from __future__ import annotations

from decimal import Decimal

import pytest

from shop.catalog.api import TAX_CLASSES
from shop.pricing.models import ShippingMethod, TaxClass, TaxRate

KEEP_MIGRATED_RATES = True  # this module tests the migrated configuration itself

pytestmark = pytest.mark.django_db

EU = {
    "AT",
    "BE",
    "BG",
    "CY",
    "CZ",
    "DE",
    "DK",
    "EE",
    "ES",
    "FI",
    "FR",
    "GR",
    "HR",
    "HU",
    "IE",
    "IT",
    "LT",
    "LU",
    "LV",
    "MT",
    "NL",
    "PL",
    "PT",
    "RO",
    "SE",
    "SI",
    "SK",
}


def test_the_tax_classes_are_the_catalogs() -> None:
    assert list(TaxClass.objects.values_list("code", flat=True)) == list(TAX_CLASSES)


def test_every_eu_state_has_a_standard_rate_and_everyone_else_the_old_checkout_rate() -> None:
    standard = dict(TaxRate.objects.filter(tax_class__code="standard").values_list("country", "rate"))

    assert set(standard) == EU | {""}
    assert standard.pop("") == Decimal("20.0000")  # migration 0004: SHOP_TAX_RATE's 0.20, for every other country
    assert set(TaxRate.objects.exclude(country="").values_list("country", flat=True)) == EU
    assert all(Decimal(15) <= rate <= Decimal(27) for rate in standard.values())  # the Directive's floor; HU's 27
    assert not TaxRate.objects.filter(tax_class__code__in=["zero", "exempt"]).exists()
    reduced = TaxRate.objects.filter(tax_class__code="reduced")
    assert reduced.count() == len(EU) - 1 and not reduced.filter(country="DK").exists()  # Denmark has none
    eu_rows = TaxRate.objects.exclude(country="")
    assert all(row.note.startswith("EU VAT rates, European Commission") for row in eu_rows)


def test_one_worldwide_method_reproduces_the_old_flat_shipping() -> None:
    [method] = ShippingMethod.objects.select_related("zone")

    assert (method.code, method.pricing, method.flat_price, method.free_over, method.is_active) == (
        "standard",
        "flat",
        Decimal("4.90"),
        Decimal("50.00"),
        True,
    )
    assert list(method.zone.countries) == [] and method.zone.postal_code_prefixes == ""
