"""``PricingAPI.quote`` and ``shipping_methods`` as cart and checkout will call them: the seeded rates
and method, tax by class and country, estimates without a destination, shipping zones and bands, and
every refusal (with nothing priced)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from shop.catalog.api import InactiveProduct, UnknownSku
from shop.kernel import Money, ValidationFailed
from shop.pricing.api import (
    MAX_LINES,
    Destination,
    Line,
    PriceCurrencyMismatch,
    PricingAPI,
    ShippingMethodUnavailable,
)
from shop.pricing.models import ShippingMethod
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.pricing.factories import method, rate, zone

pytestmark = pytest.mark.django_db


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def tee(price: str = "19.99", **kwargs: Any) -> str:
    return str(VariantFactory(price_amount=Decimal(price), **kwargs).sku)


# --- the seeded configuration ------------------------------------------------------------------------
def test_the_seeded_method_reproduces_the_old_shipping_rule(net: None, pricing: PricingAPI) -> None:
    """Flat 4.90 below 50.00 of goods, free from 50.00 (the retired SHOP_SHIPPING_FLAT / SHOP_FREE_SHIPPING_OVER)."""
    just_below, exactly = tee("49.99"), tee("50.00")

    below = pricing.quote(lines=[Line(sku=just_below, quantity=1)], destination=Destination(country="US"))
    at = pricing.quote(lines=[Line(sku=exactly, quantity=1)], destination=Destination(country="US"))

    assert below.shipping is not None and at.shipping is not None
    assert (below.shipping.method, below.shipping.price, below.total) == ("standard", eur("4.90"), eur("54.89"))
    assert (at.shipping.method, at.shipping.price, at.total) == ("standard", eur("0.00"), eur("50.00"))


@pytest.mark.parametrize(
    ("country", "tax_class", "expected"),
    [
        ("DE", "standard", "19.00"),
        ("DE", "reduced", "7.00"),
        ("DE", "super_reduced", "7.00"),  # no super-reduced rate in Germany: its reduced rate
        ("FR", "super_reduced", "2.10"),
        ("FI", "standard", "25.50"),
        ("DK", "reduced", "25.00"),  # no reduced rate in Denmark: the standard rate
        ("IT", "zero", "0.00"),
        ("DE", "exempt", "0.00"),
        ("US", "standard", "0.00"),  # outside the table: no tax
        ("CH", "reduced", "0.00"),
    ],
)
def test_a_line_is_taxed_by_its_class_and_the_destination(
    country: str, tax_class: str, expected: str, net: None, pricing: PricingAPI
) -> None:
    sku = tee("100.00", product=ProductFactory(tax_class=tax_class))

    quote = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=Destination(country=country))

    [line] = quote.lines
    assert (line.tax_class, line.tax_rate, line.tax) == (tax_class, Decimal(expected), eur(expected))


def test_rates_for_every_other_country_apply_where_a_country_has_none(net: None, pricing: PricingAPI) -> None:
    rate("", "standard", "10")
    sku = tee("100.00")

    us = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=Destination(country="US"))
    de = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=Destination(country="DE"))

    assert (us.lines[0].tax_rate, us.lines[0].tax) == (Decimal("10.00"), eur("10.00"))
    assert de.lines[0].tax_rate == Decimal("19.00")  # Germany has rates of its own


def test_a_rate_change_in_the_table_reaches_the_next_quote(net: None, pricing: PricingAPI) -> None:
    sku = tee("30.00")
    assert pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=Destination(country="DE")).tax == eur("6.63")

    rate("DE", "standard", "16")

    quote = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=Destination(country="DE"))
    assert quote.tax == eur("5.58")  # 16 % of 30.00 (4.80) and of the 4.90 shipping (0.784 -> 0.78)


def test_gross_prices_outside_the_eu_are_the_net_price(gross: None, pricing: PricingAPI) -> None:
    """A German shop's 19.99 (incl. 19 %) costs 16.80 in the US: 19.99 / 1.19, rounded per unit."""
    sku = tee("19.99")

    quote = pricing.quote(lines=[Line(sku=sku, quantity=3)], destination=Destination(country="US"))

    [line] = quote.lines
    assert (line.unit_price, line.subtotal, line.tax, line.total) == (
        eur("16.80"),
        eur("50.40"),
        eur("0"),
        eur("50.40"),
    )
    assert quote.shipping is not None and quote.shipping.price == eur("0.00")  # 50.40 of goods: free


# --- estimates --------------------------------------------------------------------------------------
def test_without_a_destination_a_gross_shop_estimates_for_its_own_country(gross: None, pricing: PricingAPI) -> None:
    sku = tee("19.99")

    quote = pricing.quote(lines=[Line(sku=sku, quantity=2)])

    assert (quote.estimated, quote.destination) == (True, None)
    assert (quote.lines[0].tax_rate, quote.total, quote.tax) == (Decimal("19.00"), eur("44.88"), eur("7.16"))


def test_without_a_destination_or_origin_the_rest_of_the_world_applies(settings: Any, pricing: PricingAPI) -> None:
    settings.SHOP_TAX_ORIGIN_COUNTRY = ""
    germany = zone("Germany", ["DE"])
    method(germany, "dhl-de", flat="3.00")
    sku = tee("10.00")

    quote = pricing.quote(lines=[Line(sku=sku, quantity=1)])

    assert quote.estimated and quote.tax == eur("0.00")
    assert quote.shipping is not None and quote.shipping.method == "standard"


def test_an_empty_basket_costs_nothing_and_ships_nothing(gross: None, pricing: PricingAPI) -> None:
    quote = pricing.quote(lines=[], destination=Destination(country="DE"))

    assert (quote.lines, quote.shipping, quote.total, quote.tax_breakdown) == ([], None, eur("0"), [])
    assert pricing.shipping_methods(lines=[], destination=Destination(country="DE")) == []


# --- shipping zones and methods -----------------------------------------------------------------------
@pytest.fixture
def zones() -> None:
    """Germany (one method), its North Sea islands by postal code (another), and the seeded worldwide."""
    method(zone("Germany", ["DE", "AT"]), "dhl-de", flat="3.90", estimate="1-2 days")
    islands = zone("North Sea islands", ["DE"], prefixes="25938, 25946, 27498")
    method(islands, "ferry", flat="9.90", name="Island ferry")


@pytest.mark.parametrize(
    ("country", "postal_code", "offered"),
    [
        ("DE", "10115", ["dhl-de"]),  # Germany's zone: the worldwide method is not offered
        ("AT", "", ["dhl-de"]),
        ("DE", "27498", ["ferry"]),  # Heligoland: its postal code narrows to the islands' zone
        ("DE", "25 938", ["ferry"]),  # spaces do not matter
        ("DE", "", ["dhl-de"]),  # no postal code: the country's zone
        ("FR", "27498", ["standard"]),  # the prefix narrows Germany, not France
    ],
)
def test_the_most_specific_zone_decides_what_is_offered(
    country: str, postal_code: str, offered: list[str], zones: None, net: None, pricing: PricingAPI
) -> None:
    sku = tee("20.00")

    methods = pricing.shipping_methods(
        lines=[Line(sku=sku, quantity=1)], destination=Destination(country=country, postal_code=postal_code)
    )

    assert [m.method for m in methods] == offered


def test_the_cheapest_method_is_the_default_and_another_one_can_be_chosen(net: None, pricing: PricingAPI) -> None:
    germany = zone("Germany", ["DE"])
    method(germany, "express", flat="12.00", position=0)
    method(germany, "economy", flat="3.90", position=1)
    method(germany, "retired", flat="0.50", is_active=False)
    sku, to = tee("20.00"), Destination(country="DE")

    offers = pricing.shipping_methods(lines=[Line(sku=sku, quantity=1)], destination=to)
    default = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=to)
    express = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=to, shipping_method="express")

    assert [(m.method, m.price, m.tax, m.total) for m in offers] == [
        ("economy", eur("3.90"), eur("0.74"), eur("4.64")),
        ("express", eur("12.00"), eur("2.28"), eur("14.28")),
    ]
    assert default.shipping == offers[0]
    assert express.shipping == offers[1] and express.total == eur("20.00") + eur("3.80") + eur("14.28")


@pytest.mark.parametrize("asked", ["express-eu", "retired", "standard", "no-such-method"])
def test_a_method_that_does_not_serve_the_basket_is_a_409_naming_those_that_do(
    asked: str, net: None, pricing: PricingAPI
) -> None:
    germany = zone("Germany", ["DE"])
    method(germany, "dhl-de", flat="3.90")
    method(germany, "retired", flat="0.50", is_active=False)
    method(germany, "express-eu", pricing="weight", bands=[("2000", "15.00")])  # at most 2 kg
    sku = tee("20.00", weight_grams=1500)

    with pytest.raises(ShippingMethodUnavailable) as caught:
        pricing.quote(lines=[Line(sku=sku, quantity=2)], destination=Destination(country="DE"), shipping_method=asked)

    assert caught.value.status == 409
    assert caught.value.extra == {"shipping_method": asked, "available": ["dhl-de"]}


def test_weight_and_price_bands_pick_the_lowest_band_that_covers_the_basket(net: None, pricing: PricingAPI) -> None:
    germany = zone("Germany", ["DE"])
    method(germany, "by-weight", pricing="weight", bands=[("1000", "4.00"), ("5000", "7.00"), (None, "20.00")])
    method(germany, "by-value", pricing="subtotal", bands=[("30.00", "6.00"), ("100.00", "5.00")], free_over="150")
    method(germany, "by-value-open", pricing="subtotal", bands=[("100.00", "5.50"), (None, "4.50")], free_over="150")
    light, heavy = tee("10.00", weight_grams=1000), tee("60.00", weight_grams=2600)

    def offers(*lines: Line) -> dict[str, Money]:
        methods = pricing.shipping_methods(lines=list(lines), destination=Destination(country="DE"))
        return {m.method: m.price for m in methods}

    assert offers(Line(sku=light, quantity=1)) == {
        "by-weight": eur("4.00"),  # 1000 g: on the bound
        "by-value": eur("6.00"),
        "by-value-open": eur("5.50"),
    }
    assert offers(Line(sku=heavy, quantity=1)) == {
        "by-weight": eur("7.00"),
        "by-value": eur("5.00"),
        "by-value-open": eur("5.50"),
    }
    # 120.00 and 5.2 kg: above every band of by-value (not offered), in the open bands of the others
    assert offers(Line(sku=heavy, quantity=2)) == {"by-weight": eur("20.00"), "by-value-open": eur("4.50")}
    # 180.00: free from 150.00, where a band covers the basket
    assert offers(Line(sku=heavy, quantity=3)) == {"by-weight": eur("20.00"), "by-value-open": eur("0.00")}


def test_no_method_for_the_destination_leaves_the_quote_without_shipping(net: None, pricing: PricingAPI) -> None:
    ShippingMethod.objects.update(is_active=False)
    sku = tee("20.00")

    quote = pricing.quote(lines=[Line(sku=sku, quantity=1)], destination=Destination(country="DE"))

    assert quote.shipping is None and quote.shipping_price == eur("0") and quote.total == eur("23.80")


# --- refusals -----------------------------------------------------------------------------------------
def test_unknown_withdrawn_and_foreign_priced_skus_are_refused_by_name(net: None, pricing: PricingAPI) -> None:
    sold, withdrawn = tee(), tee(is_active=False)
    yen = tee("1000", currency="JPY")

    with pytest.raises(UnknownSku) as unknown:
        pricing.quote(lines=[Line(sku=sold, quantity=1), Line(sku="NOPE-1", quantity=1)])
    with pytest.raises(InactiveProduct) as inactive:
        pricing.quote(lines=[Line(sku=withdrawn, quantity=1), Line(sku=sold, quantity=1)])
    with pytest.raises(PriceCurrencyMismatch) as foreign:
        pricing.quote(lines=[Line(sku=yen, quantity=1)])

    assert unknown.value.extra["skus"] == ["NOPE-1"] and unknown.value.status == 404
    assert inactive.value.extra["skus"] == [withdrawn]
    assert foreign.value.extra == {"skus": [yen], "currency": "EUR"} and foreign.value.status == 409


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"lines": [Line(sku="TEE", quantity=0)]}, "lines"),
        ({"lines": [Line(sku="TEE", quantity=100_001)]}, "lines"),
        ({"lines": [Line(sku="has space", quantity=1)]}, "lines"),
        ({"lines": [Line(sku=f"S-{i}", quantity=1) for i in range(MAX_LINES + 1)]}, "lines"),
        ({"destination": Destination(country="XX")}, "destination"),
        ({"destination": Destination(country="Germany")}, "destination"),
        ({"destination": Destination(country="DE", postal_code="1" * 17)}, "destination"),
        ({"destination": Destination(country="DE", postal_code="<script>")}, "destination"),
        ({"shipping_method": "no spaces allowed"}, "shipping_method"),
        ({"customer_id": 0}, "customer_id"),
    ],
)
def test_bad_input_is_a_validation_error_naming_the_field(
    kwargs: dict[str, Any], field: str, net: None, pricing: PricingAPI
) -> None:
    arguments: dict[str, Any] = {"lines": [Line(sku=tee(sku="TEE"), quantity=1)], **kwargs}

    with pytest.raises(ValidationFailed) as caught:
        pricing.quote(**arguments)

    assert list(caught.value.extra["errors"]) == [field]


def test_a_destination_is_read_in_upper_case_without_extra_spaces(net: None, pricing: PricingAPI) -> None:
    sku = tee()

    quote = pricing.quote(
        lines=[Line(sku=sku, quantity=1)], destination=Destination(country="de", postal_code=" 10 115 ")
    )

    assert quote.destination == Destination(country="DE", postal_code="10 115")
    assert quote.lines[0].tax_rate == Decimal("19.00")
