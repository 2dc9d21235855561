"""The pricing arithmetic alone (no database): per-line rounding, gross and net entry, discounts that
never make a line negative, totals that are sums of rounded amounts."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shop.kernel import Money
from shop.pricing import api
from shop.pricing.services.arithmetic import Item, assemble, price_line, recomputed_gross, split


def eur(amount: str) -> Money:
    return Money(Decimal(amount), "EUR")


def test_a_gross_price_keeps_its_amount_and_takes_the_tax_out() -> None:
    assert split(eur("119.00"), rate=Decimal(19), included=True) == (eur("100.00"), eur("19.00"), eur("119.00"))


def test_a_net_price_gets_the_tax_on_top() -> None:
    assert split(eur("100.00"), rate=Decimal(20), included=False) == (eur("100.00"), eur("20.00"), eur("120.00"))


def test_a_gross_price_shipped_to_another_rate_is_recomputed_from_its_net_once_per_unit() -> None:
    # 11.90 includes 19 % (net 10.00); in France (20 %) it costs 12.00.
    assert recomputed_gross(eur("11.90"), origin_rate=Decimal(19), rate=Decimal(20)) == eur("12.00")
    assert recomputed_gross(eur("11.90"), origin_rate=Decimal(19), rate=Decimal(19)) == eur("11.90")
    line = price_line(
        Item(sku="A", quantity=3, entered_price=eur("11.90"), tax_class="standard"),
        rate=Decimal(20),
        origin_rate=Decimal(19),
        included=True,
    )
    assert (line.unit_price, line.subtotal, line.net, line.tax, line.total) == (
        eur("12.00"),
        eur("36.00"),
        eur("30.00"),
        eur("6.00"),
        eur("36.00"),
    )


def test_discounts_come_off_before_tax_and_never_below_zero() -> None:
    discount = api.Discount(source="promotion:1", label="-5", amount=eur("5.00"))
    line = price_line(
        Item(sku="A", quantity=1, entered_price=eur("25.00"), tax_class="standard", discounts=(discount,)),
        rate=Decimal(25),
        origin_rate=None,
        included=False,
    )
    assert (line.discount, line.net, line.tax, line.total) == (eur("5.00"), eur("20.00"), eur("5.00"), eur("25.00"))
    too_much = api.Discount(source="promotion:2", label="-30", amount=eur("30.00"))
    with pytest.raises(ValueError, match="exceed"):
        price_line(
            Item(sku="A", quantity=1, entered_price=eur("25.00"), tax_class="standard", discounts=(too_much,)),
            rate=Decimal(25),
            origin_rate=None,
            included=False,
        )


prices = st.integers(min_value=0, max_value=10**7).map(lambda cents: Money.from_minor(cents, "EUR"))
rates = st.sampled_from([Decimal(0), Decimal("5.5"), Decimal(7), Decimal(19), Decimal(20), Decimal(25)])


@given(
    items=st.lists(st.tuples(prices, st.integers(min_value=1, max_value=50), rates), min_size=1, max_size=12),
    included=st.booleans(),
)
def test_totals_are_sums_of_rounded_line_amounts(items: list[tuple[Money, int, Decimal]], included: bool) -> None:
    lines = [
        price_line(
            Item(sku=f"S{i}", quantity=quantity, entered_price=price, tax_class="standard"),
            rate=rate,
            origin_rate=None,
            included=included,
        )
        for i, (price, quantity, rate) in enumerate(items)
    ]
    quote = assemble(
        currency="EUR",
        included=included,
        destination=None,
        lines=lines,
        shipping=None,
        weight_grams=0,
        tax_source="table",
    )
    assert all(line.net + line.tax == line.total for line in lines)
    assert quote.total == sum((line.total for line in lines), Money.zero("EUR"))
    assert quote.tax == sum((row.tax for row in quote.tax_breakdown), Money.zero("EUR"))
    assert quote.net + quote.tax == quote.total
    assert all(amount.amount >= 0 for line in lines for amount in (line.net, line.tax, line.total))
