"""The ``PricingAPI`` contract, run against the local service and over HTTP (fixture ``binding``).

What cart and checkout will see must not depend on the binding: the same ``Quote`` (Money, Decimal
rates, nested lines, shipping and breakdown), the same errors with the same codes and extras, and a
quote that costs the same statements for one line or forty.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from decimal import Decimal
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from shop.catalog.api import InactiveProduct, UnknownSku
from shop.kernel import Money, ValidationFailed
from shop.pricing.api import (
    Destination,
    Discount,
    Line,
    PriceCurrencyMismatch,
    PricingAPI,
    Quote,
    QuoteLine,
    ShippingCharge,
    ShippingMethodUnavailable,
    TaxRateTotal,
    TaxUnavailable,
    VoucherApplied,
    VoucherExhausted,
    VoucherUnknown,
    VoucherUse,
)
from shop.pricing.models import Promotion, Voucher
from shop.pricing.services import PricingService
from tests.catalog.factories import ProductFactory, VariantFactory
from tests.contracts.kit import assert_implements, method_queries
from tests.helpers import connection_of

GERMANY, FRANCE = Destination(country="DE", postal_code="10115"), Destination(country="FR")


def _implementations_satisfy_the_protocol() -> None:
    """Never called: mypy checks this assignment, so a signature drifting from ``PricingAPI`` fails CI."""
    impl: PricingAPI = PricingService()
    del impl


def test_implementations_have_the_protocols_signatures() -> None:
    assert_implements(PricingAPI, PricingService)


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


@pytest.fixture
def gross_shop(settings: Any) -> None:
    settings.SHOP_PRICES_INCLUDE_TAX = True
    settings.SHOP_TAX_ORIGIN_COUNTRY = "DE"


@pytest.fixture
def basket(db: None) -> list[Line]:
    VariantFactory.create(sku="TEE", price_amount=Decimal("19.99"), weight_grams=200)
    VariantFactory.create(sku="BOOK", price_amount=Decimal("12.00"), product=ProductFactory.create(tax_class="reduced"))
    return [Line(sku="TEE", quantity=2), Line(sku="BOOK", quantity=1)]


# --- quote ----------------------------------------------------------------------------------------------
def test_quote_round_trips_every_dto_with_exact_money(
    pricing_api: PricingAPI, basket: list[Line], gross_shop: None
) -> None:
    got = pricing_api.quote(lines=basket, destination=FRANCE)

    assert got == PricingService().quote(lines=basket, destination=FRANCE)  # whichever the binding
    assert type(got) is Quote and type(got.destination) is Destination
    assert [type(line) for line in got.lines] == [QuoteLine, QuoteLine]
    assert type(got.shipping) is ShippingCharge and all(type(r) is TaxRateTotal for r in got.tax_breakdown)
    assert type(got.total) is Money and type(got.total.amount) is Decimal
    assert type(got.lines[0].tax_rate) is Decimal and str(got.lines[0].tax_rate) == "20.00"
    assert [(line.sku, line.unit_price, line.tax_rate, line.tax, line.total) for line in got.lines] == [
        ("TEE", eur("20.16"), Decimal("20"), eur("6.72"), eur("40.32")),  # 19.99 incl. 19 %, at 20 %
        ("BOOK", eur("11.83"), Decimal("5.5"), eur("0.62"), eur("11.83")),  # 12.00 incl. 7 %, at 5.5 %
    ]
    assert (got.currency, got.prices_include_tax, got.estimated, got.weight_grams) == ("EUR", True, False, 400)
    assert got.total == sum((line.total for line in got.lines), got.shipping.total if got.shipping else eur("0"))
    assert got.tax == sum((row.tax for row in got.tax_breakdown), eur("0"))


def test_shipping_methods_lists_what_quote_would_choose(pricing_api: PricingAPI, basket: list[Line]) -> None:
    methods = pricing_api.shipping_methods(lines=basket[:1], destination=GERMANY)  # 39.98: not free
    quote = pricing_api.quote(lines=basket[:1], destination=GERMANY)

    assert [type(m) for m in methods] == [ShippingCharge]
    assert methods[0] == quote.shipping
    assert (methods[0].method, methods[0].price, methods[0].tax_rate) == ("standard", eur("4.90"), Decimal("19"))


# --- promotions and vouchers ---------------------------------------------------------------------------
def test_a_voucher_quote_round_trips_its_discounts_and_codes(pricing_api: PricingAPI, basket: list[Line]) -> None:
    promotion = Promotion.objects.create(
        name="V", label="Ten off", kind="order", benefit="fixed", value=Decimal("10"), requires_voucher=True
    )
    Voucher.objects.create(code="TEN-OFF", promotion=promotion, usage_limit=1)

    got = pricing_api.quote(lines=basket, destination=GERMANY, voucher_codes=["ten-off"], customer_id=5)

    assert got == PricingService().quote(lines=basket, destination=GERMANY, voucher_codes=["TEN-OFF"], customer_id=5)
    assert got.vouchers == [VoucherApplied(code="TEN-OFF", label="Ten off", discount=eur("10.00"))]
    assert all(type(d) is Discount for line in got.lines for d in line.discounts)
    assert sum((d.amount for line in got.lines for d in line.discounts), eur("0")) == eur("10.00")


def test_vouchers_are_held_and_given_back_through_the_binding(pricing_api: PricingAPI) -> None:
    promotion = Promotion.objects.create(name="V", label="V", kind="order", requires_voucher=True)
    Voucher.objects.create(code="ONLY-ONE", promotion=promotion, usage_limit=1)
    held = [VoucherUse(code="ONLY-ONE", discount=eur("3.00"))]

    pricing_api.redeem_vouchers(customer_id=1, order_reference="SO-1", uses=held)
    pricing_api.redeem_vouchers(customer_id=1, order_reference="SO-1", uses=held)  # a retry: the same use

    with pytest.raises(VoucherExhausted) as caught:
        pricing_api.redeem_vouchers(customer_id=2, order_reference="SO-2", uses=held)
    assert type(caught.value) is VoucherExhausted and caught.value.extra == {"voucher": "ONLY-ONE", "limit": "total"}
    pricing_api.release_vouchers(order_reference="SO-1")
    pricing_api.redeem_vouchers(customer_id=2, order_reference="SO-2", uses=held)


def test_an_unknown_code_is_a_404_voucher_unknown(pricing_api: PricingAPI, basket: list[Line]) -> None:
    with pytest.raises(VoucherUnknown) as caught:
        pricing_api.quote(lines=basket, destination=GERMANY, voucher_codes=["NOPE"])

    assert type(caught.value) is VoucherUnknown and caught.value.status == 404


# --- errors ---------------------------------------------------------------------------------------------
def test_unknown_and_withdrawn_skus_are_the_catalogs_errors(pricing_api: PricingAPI, basket: list[Line]) -> None:
    VariantFactory.create(sku="GONE", is_active=False)
    VariantFactory.create(sku="YEN", price_amount=Decimal("900"), currency="JPY")

    with pytest.raises(UnknownSku) as unknown:
        pricing_api.quote(lines=[*basket, Line(sku="NOPE", quantity=1)])
    with pytest.raises(InactiveProduct) as inactive:
        pricing_api.quote(lines=[Line(sku="GONE", quantity=1)])
    with pytest.raises(PriceCurrencyMismatch) as foreign:
        pricing_api.shipping_methods(lines=[Line(sku="YEN", quantity=1)])

    assert type(unknown.value) is UnknownSku and unknown.value.extra["skus"] == ["NOPE"]
    assert type(inactive.value) is InactiveProduct and inactive.value.extra["skus"] == ["GONE"]
    assert type(foreign.value) is PriceCurrencyMismatch and foreign.value.extra["skus"] == ["YEN"]


def test_an_unavailable_method_is_a_409_with_the_available_ones(pricing_api: PricingAPI, basket: list[Line]) -> None:
    with pytest.raises(ShippingMethodUnavailable) as caught:
        pricing_api.quote(lines=basket, destination=GERMANY, shipping_method="drone")

    assert type(caught.value) is ShippingMethodUnavailable and caught.value.status == 409
    assert caught.value.extra == {"shipping_method": "drone", "available": ["standard"]}


def test_bad_input_is_a_validation_error(pricing_api: PricingAPI, basket: list[Line]) -> None:
    with pytest.raises(ValidationFailed) as caught:
        pricing_api.quote(lines=basket, destination=Destination(country="ZZ"))

    assert type(caught.value) is ValidationFailed and list(caught.value.extra["errors"]) == ["destination"]


def test_a_tax_service_down_is_tax_unavailable_not_a_dead_context(
    pricing_api: PricingAPI, basket: list[Line], httpserver: HTTPServer, settings: Any
) -> None:
    """The 503 is pricing's answer (the tax service failed), so the HTTP client raises the domain
    error, not ``ContextUnavailable`` (pricing itself answered)."""
    httpserver.expect_request("/rates").respond_with_data(json.dumps({}), status=500)
    settings.SHOP_TAX_PROVIDER, settings.SHOP_TAX_SERVICE_URL = "http", httpserver.url_for("/")

    with pytest.raises(TaxUnavailable) as caught:
        pricing_api.quote(lines=basket, destination=GERMANY)

    assert type(caught.value) is TaxUnavailable and caught.value.status == 503


# --- cost -----------------------------------------------------------------------------------------------
@contextmanager
def pinned_queries() -> Iterator[None]:
    """One catalog read; one read of the rates, two of the shipping methods (with their bands) and one of
    the running promotions."""
    catalog, pricing = connection_of("catalog"), connection_of("pricing")
    with ExitStack() as stack:
        if catalog is pricing:
            stack.enter_context(method_queries(catalog, exactly=5))
        else:
            stack.enter_context(method_queries(catalog, exactly=1))
            stack.enter_context(method_queries(pricing, exactly=4))
        yield


@pytest.mark.parametrize("count", [1, 40])
def test_a_quote_costs_the_same_statements_for_one_line_or_forty(
    pricing_api: PricingAPI, gross_shop: None, count: int
) -> None:
    product = ProductFactory.create(tax_class="reduced")
    lines = [Line(sku=VariantFactory.create(product=product).sku, quantity=i + 1) for i in range(count)]

    with pinned_queries():
        quote = pricing_api.quote(lines=lines, destination=FRANCE)

    assert len(quote.lines) == count
