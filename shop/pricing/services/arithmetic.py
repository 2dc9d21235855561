"""The money of a quote, with one rounding rule: every amount is rounded where it is first computed,
per line (the kernel's ``Money``: half to even at the currency's exponent), and every total is a sum of
rounded amounts. Nothing is ever rounded twice or spread back over lines, so:

* a quote's total is the sum of its lines and its shipping, its tax the sum of its tax breakdown;
* any subset of lines (a refund, a split invoice) adds up to exactly what those lines cost.

Per line, in the shop's price entry mode (``included``: prices include tax):

* gross, taxed where the price was entered: the line amount stays; ``tax = amount * r / (100 + r)``,
  ``net = amount - tax``;
* gross, taxed at another rate (shipped to another country): the unit price is recomputed from its
  net, ``unit * (100 + r_dest) / (100 + r_origin)``, rounded once per unit, then as above;
* net: ``net = amount``, ``tax = net * r / 100``, ``total = net + tax``.

Discounts come off the line amount before tax, in the same mode. Pure functions: no database.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from shop.kernel import Money
from shop.pricing import api

HUNDRED = Decimal(100)


@dataclass(frozen=True, kw_only=True)
class Item:
    """A line as the catalog sells it, with what the rates and promotions say about it."""

    sku: str
    quantity: int
    entered_price: Money  # the catalog's price of one unit, in the entry mode
    tax_class: str
    weight_grams: int = 0
    category_ids: Sequence[int] = field(default_factory=tuple)  # the product's category and its ancestors
    discounts: Sequence[api.Discount] = field(default_factory=tuple)


def recomputed_gross(price: Money, *, origin_rate: Decimal, rate: Decimal) -> Money:
    """A gross price that includes ``origin_rate``, as charged where ``rate`` applies: its net with
    ``rate`` on top, rounded once. The same rate keeps the price exactly as entered."""
    if origin_rate == rate:
        return price
    return Money(price.amount * (HUNDRED + rate) / (HUNDRED + origin_rate), price.currency)


def split(amount: Money, *, rate: Decimal, included: bool) -> tuple[Money, Money, Money]:
    """``(net, tax, total)`` of an amount after discounts, taxed at ``rate`` percent."""
    if included:
        tax = Money(amount.amount * rate / (HUNDRED + rate), amount.currency)
        return amount - tax, tax, amount
    tax = Money(amount.amount * rate / HUNDRED, amount.currency)
    return amount, tax, amount + tax


def _discount(discounts: Sequence[api.Discount], *, limit: Money) -> Money:
    """The sum of a line's discounts: each one positive, together at most the line (no negative line)."""
    total = Money.zero(limit.currency)
    for discount in discounts:
        if discount.amount.amount < 0:
            raise ValueError(f"a discount is never negative: {discount}")
        total += discount.amount
    if total > limit:
        raise ValueError(f"discounts of {total} exceed the amount {limit}")
    return total


def unit_price(item: Item, *, rate: Decimal, origin_rate: Decimal | None, included: bool) -> Money:
    """What one unit costs where it is taxed at ``rate``, in the entry mode (before discounts)."""
    if included and origin_rate is not None:
        return recomputed_gross(item.entered_price, origin_rate=origin_rate, rate=rate)
    return item.entered_price


def price_line(item: Item, *, rate: Decimal, origin_rate: Decimal | None, included: bool) -> api.QuoteLine:
    """One line. ``origin_rate`` is the rate the gross price includes (gross mode only)."""
    unit = unit_price(item, rate=rate, origin_rate=origin_rate, included=included)
    subtotal = unit * item.quantity
    discount = _discount(item.discounts, limit=subtotal)
    net, tax, total = split(subtotal - discount, rate=rate, included=included)
    return api.QuoteLine(
        sku=item.sku,
        quantity=item.quantity,
        tax_class=item.tax_class,
        unit_price=unit,
        subtotal=subtotal,
        discounts=list(item.discounts),
        discount=discount,
        net=net,
        tax_rate=rate,
        tax=tax,
        total=total,
    )


def price_shipping(
    *,
    code: str,
    name: str,
    delivery_estimate: str,
    entered_price: Money,
    rate: Decimal,
    origin_rate: Decimal | None,
    included: bool,
    discounts: Sequence[api.Discount] = (),
) -> api.ShippingCharge:
    """A shipping method's charge: taxed like a line, at the destination's standard rate."""
    price = entered_price
    if included and origin_rate is not None:
        price = recomputed_gross(price, origin_rate=origin_rate, rate=rate)
    discount = _discount(discounts, limit=price)
    net, tax, total = split(price - discount, rate=rate, included=included)
    return api.ShippingCharge(
        method=code,
        name=name,
        delivery_estimate=delivery_estimate,
        price=price,
        discounts=list(discounts),
        discount=discount,
        net=net,
        tax_rate=rate,
        tax=tax,
        total=total,
    )


def goods_amount(lines: Iterable[api.QuoteLine], currency: str) -> Money:
    """What the goods cost after discounts, in the entry mode: what free-shipping thresholds and
    price bands are compared with (the figure the customer sees above shipping)."""
    return sum((line.subtotal - line.discount for line in lines), Money.zero(currency))


def tax_breakdown(charges: Iterable[api.QuoteLine | api.ShippingCharge], currency: str) -> list[api.TaxRateTotal]:
    """The rounded nets and taxes grouped by rate (highest first): sums of sums, so they add up."""
    nets: dict[Decimal, Money] = defaultdict(lambda: Money.zero(currency))
    taxes: dict[Decimal, Money] = defaultdict(lambda: Money.zero(currency))
    for charge in charges:
        nets[charge.tax_rate] += charge.net
        taxes[charge.tax_rate] += charge.tax
    return [api.TaxRateTotal(rate=rate, net=nets[rate], tax=taxes[rate]) for rate in sorted(nets, reverse=True)]


def assemble(
    *,
    currency: str,
    included: bool,
    destination: api.Destination | None,
    lines: Sequence[api.QuoteLine],
    shipping: api.ShippingCharge | None,
    weight_grams: int,
    tax_source: str,
) -> api.Quote:
    """The quote's totals, every one a sum of the rounded amounts above."""
    zero = Money.zero(currency)
    charges: list[api.QuoteLine | api.ShippingCharge] = [*lines, *([shipping] if shipping else [])]
    return api.Quote(
        currency=currency,
        prices_include_tax=included,
        destination=destination,
        estimated=destination is None,
        lines=list(lines),
        shipping=shipping,
        weight_grams=weight_grams,
        subtotal=sum((line.subtotal for line in lines), zero),
        discount=sum((charge.discount for charge in charges), zero),
        shipping_price=shipping.price if shipping else zero,  # its discounts are in ``discount``, like the lines'
        net=sum((charge.net for charge in charges), zero),
        tax=sum((charge.tax for charge in charges), zero),
        total=sum((charge.total for charge in charges), zero),
        tax_breakdown=tax_breakdown(charges, currency),
        tax_source=tax_source,
    )
