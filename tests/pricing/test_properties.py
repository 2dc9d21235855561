"""Properties of every quote, over random baskets, rates, discounts and shipping methods (hypothesis).

They run on ``quoting.build_basket`` and ``quoting.quote_of``, the pure part of ``PricingAPI.quote``
(what it read from the catalog, the tax provider and the shipping tables comes in as arguments), so
thousands of baskets cost no database. Done-when 2 of issue 15:

* line totals sum to the subtotal, the lines and shipping to the total, and ``total = net + tax``;
* the tax breakdown sums to the tax total (and its nets to the net);
* gross and net entry give the same quote for a same-rate destination (when the gross price is
  exactly the net price plus tax: otherwise they are different prices);
* no amount is negative, and every amount has the currency's exponent;
* with random promotions of every kind (issue 16): no discount exceeds its line or shipping, and tax is
  computed on what is left after discounts.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from fractions import Fraction
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from shop.catalog.api import TAX_CLASSES
from shop.kernel import Money
from shop.kernel.money import CURRENCY_EXPONENTS
from shop.pricing import api
from shop.pricing.adapters.base import TaxPlace
from shop.pricing.selectors import Band, Method, Rule
from shop.pricing.services.arithmetic import Item
from shop.pricing.services.quoting import Basket, build_basket, quote_of

CURRENCIES = ["EUR", "JPY", "BHD"]
RATES = [Decimal(r) for r in ("0", "2.1", "4", "5", "5.5", "7", "8.875", "10", "19", "20", "21", "25.5")]
COUNTRIES = ["DE", "FR", "US"]
CLASSES = st.sampled_from(TAX_CLASSES)


def money(minor: int, currency: str) -> Money:
    return Money.from_minor(minor, currency)


@st.composite
def rate_table(draw: st.DrawFn) -> dict[str, Decimal]:
    """A rate per class, as a provider answers: zero and exempt are 0 %."""
    table = {tax_class: draw(st.sampled_from(RATES)) for tax_class in TAX_CLASSES}
    return {**table, "zero": Decimal(0), "exempt": Decimal(0)}


@st.composite
def promotions(draw: st.DrawFn, currency: str) -> list[Rule]:
    """Up to four running promotions of every kind and benefit (what ``build_basket`` turns into discounts)."""
    exponent = CURRENCY_EXPONENTS[currency]
    result = []
    for index in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(["catalogue", "order"]))
        benefits = (
            ["percentage", "fixed", "buy_x_get_y"] if kind == "catalogue" else ["percentage", "fixed", "free_shipping"]
        )
        benefit = draw(st.sampled_from(benefits))
        value = (
            Decimal(draw(st.integers(0, 100)))
            if benefit in ("percentage", "buy_x_get_y")
            else Decimal(draw(st.integers(0, 100_000))).scaleb(-exponent)
        )
        result.append(
            Rule(
                id=index + 1,
                label=f"promotion {index}",
                kind=kind,
                benefit=benefit,
                value=value,
                everything=draw(st.booleans()),
                skus=frozenset(draw(st.lists(st.sampled_from([f"SKU-{i}" for i in range(8)]), max_size=3))),
                min_subtotal=draw(st.none() | st.integers(0, 100_000).map(lambda m: Decimal(m).scaleb(-exponent))),
                exclusive=draw(st.booleans()),
                priority=draw(st.integers(0, 2)),
                buy_quantity=draw(st.integers(1, 3)),
                get_quantity=draw(st.integers(1, 2)),
                max_applications=draw(st.none() | st.integers(0, 3)),
            )
        )
    return result


@st.composite
def items(draw: st.DrawFn, currency: str) -> list[Item]:
    result = []
    for index in range(draw(st.integers(0, 8))):
        unit = draw(st.integers(0, 200_000))
        quantity = draw(st.integers(1, 20))
        result.append(
            Item(
                sku=f"SKU-{index}",
                quantity=quantity,
                entered_price=money(unit, currency),
                tax_class=draw(CLASSES),
                weight_grams=draw(st.integers(0, 5000)),
            )
        )
    return result


@st.composite
def methods(draw: st.DrawFn, currency: str) -> list[Method]:
    exponent = CURRENCY_EXPONENTS[currency]
    amount = st.integers(0, 50_000).map(lambda minor: Decimal(minor).scaleb(-exponent))
    result = []
    for index in range(draw(st.integers(0, 4))):
        pricing = draw(st.sampled_from(["flat", "subtotal", "weight"]))
        bounds = sorted(set(draw(st.lists(st.integers(1, 100_000), max_size=3))))
        bands = [
            Band(up_to=Decimal(b) if pricing == "weight" else Decimal(b).scaleb(-exponent), price=draw(amount))
            for b in bounds
        ]
        if pricing != "flat" and draw(st.booleans()):
            bands.append(Band(up_to=None, price=draw(amount)))
        result.append(
            Method(
                code=f"m-{index}",
                name=f"Method {index}",
                delivery_estimate="",
                pricing=pricing,
                flat_price=draw(amount),
                free_over=draw(st.none() | amount),
                position=draw(st.integers(0, 3)),
                zone_countries=frozenset(draw(st.lists(st.sampled_from(COUNTRIES), max_size=2))),
                zone_postal_prefixes=(),
                bands=tuple(bands) if pricing != "flat" else (),
            )
        )
    return result


@st.composite
def baskets(draw: st.DrawFn) -> Basket:
    currency = draw(st.sampled_from(CURRENCIES))
    gross = draw(st.booleans())
    country = draw(st.none() | st.sampled_from(COUNTRIES))
    return build_basket(
        items=draw(items(currency)),
        rates=draw(rate_table()),
        origin_rates=draw(rate_table()) if gross else None,
        methods=draw(methods(currency)),
        place=TaxPlace(country),
        currency=currency,
        destination=api.Destination(country=country) if country else None,
        tax_source="table",
        rules=draw(promotions(currency)),
    )


def amounts(value: Any) -> Iterator[Money]:
    """Every Money in a DTO, however deep."""
    if isinstance(value, Money):
        yield value
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        for item in dataclasses.fields(value):
            yield from amounts(getattr(value, item.name))
    elif isinstance(value, list):
        for item in value:
            yield from amounts(item)


def total_of(values: Any, currency: str) -> Money:
    return sum(values, Money.zero(currency))


@settings(max_examples=400, deadline=None)
@given(baskets())
def test_a_quote_adds_up_to_the_cent(basket: Basket) -> None:
    quote = quote_of(basket, shipping_method=None)
    cur = quote.currency
    charges = [*quote.lines, *([quote.shipping] if quote.shipping else [])]

    assert quote.subtotal == total_of((line.subtotal for line in quote.lines), cur)
    assert quote.total == total_of((c.total for c in charges), cur) == quote.net + quote.tax
    assert quote.tax == total_of((row.tax for row in quote.tax_breakdown), cur)
    assert quote.net == total_of((row.net for row in quote.tax_breakdown), cur)
    assert quote.discount == total_of((d.amount for c in charges for d in c.discounts), cur)
    for charge in charges:  # each line stands alone: refunding any subset adds up to the cent
        assert charge.total == charge.net + charge.tax
    if quote.prices_include_tax:
        assert quote.total == quote.subtotal - quote.discount + quote.shipping_price
    else:
        assert quote.total == quote.subtotal - quote.discount + quote.shipping_price + quote.tax


@settings(max_examples=400, deadline=None)
@given(baskets())
def test_no_amount_is_negative_and_every_amount_has_the_currencys_exponent(basket: Basket) -> None:
    quote = quote_of(basket, shipping_method=None)
    exponent = -CURRENCY_EXPONENTS[quote.currency]

    found = list(amounts(quote))

    assert found and all(m.currency == quote.currency for m in found)
    assert all(m.amount >= 0 for m in found), [m for m in found if m.amount < 0]
    assert all(m.amount.as_tuple().exponent == exponent for m in found)


@settings(max_examples=200, deadline=None)
@given(baskets())
def test_the_default_shipping_is_the_cheapest_and_every_offer_can_be_chosen(basket: Basket) -> None:
    default = quote_of(basket, shipping_method=None)
    if not basket.options:
        assert default.shipping is None and default.shipping_price == Money.zero(default.currency)
        return
    assert default.shipping == basket.options[0]
    assert all(default.shipping.total <= option.total for option in basket.options)
    for option in basket.options:
        assert quote_of(basket, shipping_method=option.method).shipping == option


def exact_gross(net_minor: int, rate: Decimal) -> int:
    """Net prices whose gross (net plus ``rate`` percent) is whole minor units: the multiples of this."""
    return net_minor * Fraction(rate / 100).denominator


@settings(max_examples=200, deadline=None)
@given(baskets())
def test_discounts_never_exceed_what_they_discount_and_tax_is_on_what_is_left(basket: Basket) -> None:
    quote = quote_of(basket, shipping_method=None)
    charges: list[api.QuoteLine | api.ShippingCharge] = [*quote.lines, *([quote.shipping] if quote.shipping else [])]
    for charge in charges:
        before = charge.subtotal if isinstance(charge, api.QuoteLine) else charge.price
        assert Money.zero(quote.currency) <= charge.discount <= before
        rate = charge.tax_rate
        left = (before - charge.discount).amount
        expected = left * rate / (100 + rate) if quote.prices_include_tax else left * rate / 100
        assert charge.tax == Money(expected, quote.currency)  # taxed once, on the discounted amount


@settings(max_examples=300, deadline=None)
@given(
    rate=st.sampled_from(RATES),
    lines=st.lists(st.tuples(st.integers(0, 2_000), st.integers(1, 20), CLASSES), max_size=6),
    shipping_units=st.integers(0, 500),
)
def test_gross_and_net_entry_quote_the_same_for_a_same_rate_destination(
    rate: Decimal, lines: list[tuple[int, int, str]], shipping_units: int
) -> None:
    rates = dict.fromkeys(TAX_CLASSES, rate) | {"zero": Decimal(0), "exempt": Decimal(0)}

    def priced(gross: bool) -> api.Quote:
        def entered(units: int, tax_class: str) -> Money:
            net_minor = exact_gross(units, rates[tax_class])
            minor = net_minor * (100 + rates[tax_class]) / 100 if gross else net_minor
            return money(int(minor), "EUR")

        shipping_price = entered(shipping_units, "standard").amount
        basket = build_basket(
            items=[
                Item(sku=f"S{i}", quantity=q, entered_price=entered(units, c), tax_class=c)
                for i, (units, q, c) in enumerate(lines)
            ],
            rates=rates,
            origin_rates=rates if gross else None,
            methods=[
                Method(
                    code="flat",
                    name="Flat",
                    delivery_estimate="",
                    pricing="flat",
                    flat_price=shipping_price,
                    free_over=None,
                    position=0,
                    zone_countries=frozenset(),
                    zone_postal_prefixes=(),
                    bands=(),
                )
            ],
            place=TaxPlace("DE"),
            currency="EUR",
            destination=api.Destination(country="DE"),
            tax_source="table",
        )
        return quote_of(basket, shipping_method=None)

    gross, net = priced(True), priced(False)

    assert (gross.total, gross.net, gross.tax) == (net.total, net.net, net.tax)
    assert gross.tax_breakdown == net.tax_breakdown
    assert [(g.net, g.tax, g.total) for g in gross.lines] == [(n.net, n.tax, n.total) for n in net.lines]
