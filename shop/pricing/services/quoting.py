"""``PricingService``, the in-process ``PricingAPI``: read the basket from the catalog, the rates from
the tax provider and the shipping methods, then price it (``arithmetic``).

A quote costs the same statements for 1 line or 500: one catalog read (``get_variants``), one read of
the rates of every place, two of the shipping methods, one of the running promotions. It writes nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import ClassVar

from django.conf import settings
from django.utils import timezone
from django_countries import countries

from shop import registry
from shop.catalog.api import SKU_PATTERN, CatalogAPI, InactiveProduct, UnknownSku
from shop.kernel import Money, ValidationFailed
from shop.pricing import api, selectors
from shop.pricing.adapters.base import STANDARD, RatesByClass, TaxPlace
from shop.pricing.services import arithmetic, promotions, shipping, tax, vouchers
from shop.pricing.services.arithmetic import Item

SKU_RE = re.compile(rf"^{SKU_PATTERN}$")
POSTAL_CODE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")
METHOD_CODE_RE = re.compile(r"^[-a-zA-Z0-9_]{1,50}$")


def _invalid(field: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, errors={field: [message]})


def checked_lines(lines: Sequence[api.Line]) -> list[api.Line]:
    if len(lines) > api.MAX_LINES:
        raise _invalid("lines", f"At most {api.MAX_LINES} lines.")
    for line in lines:
        if not isinstance(line.sku, str) or not SKU_RE.match(line.sku):
            raise _invalid("lines", f"{line.sku!r} is not a SKU.")
        if isinstance(line.quantity, bool) or not isinstance(line.quantity, int):
            raise _invalid("lines", "Quantities are whole numbers.")
        if not 1 <= line.quantity <= api.MAX_QUANTITY:
            raise _invalid("lines", f"Quantities are between 1 and {api.MAX_QUANTITY}.")
    return list(lines)


def checked_destination(destination: api.Destination | None) -> api.Destination | None:
    """An ISO country (upper-cased) and a plausible postal code (trimmed, upper-cased), or nothing."""
    if destination is None:
        return None
    country = str(destination.country).strip().upper()
    if country not in countries:
        raise _invalid("destination", f"{destination.country!r} is not an ISO 3166-1 alpha-2 country code.")
    postal_code = " ".join(str(destination.postal_code).split()).upper()
    if len(postal_code) > api.MAX_POSTAL_CODE_LENGTH or (postal_code and not POSTAL_CODE_RE.match(postal_code)):
        raise _invalid("destination", "A postal code has at most 16 letters, digits, spaces or dashes.")
    return api.Destination(country=country, postal_code=postal_code)


def _items(lines: Sequence[api.Line], currency: str) -> list[Item]:
    """The basket as the catalog sells it now: one read; unknown, withdrawn or foreign-priced SKUs refused."""
    found = {v.sku: v for v in registry.get(CatalogAPI).get_variants(skus=[line.sku for line in lines])}
    if unknown := [line.sku for line in lines if line.sku not in found]:
        raise UnknownSku(f"No such SKU: {', '.join(unknown)}.", skus=unknown)
    if withdrawn := [line.sku for line in lines if not found[line.sku].is_active]:
        raise InactiveProduct(skus=withdrawn)
    if foreign := [line.sku for line in lines if found[line.sku].price.currency != currency]:
        raise api.PriceCurrencyMismatch(skus=foreign, currency=currency)
    return [
        Item(
            sku=line.sku,
            quantity=line.quantity,
            entered_price=found[line.sku].price,
            tax_class=found[line.sku].tax_class,
            weight_grams=found[line.sku].weight_grams,
            category_ids=tuple(found[line.sku].category_ids),
        )
        for line in lines
    ]


@dataclass(frozen=True, kw_only=True)
class Basket:
    """A priced basket before its shipping is chosen: the lines and every charge the methods may add."""

    currency: str
    included: bool
    destination: api.Destination | None
    lines: list[api.QuoteLine]
    options: list[api.ShippingCharge]  # cheapest first
    weight_grams: int
    tax_source: str
    voucher_rules: Sequence[selectors.Rule] = ()  # the promotions codes unlocked (``Quote.vouchers`` sums them)


def price_basket(
    *,
    lines: Sequence[api.Line],
    destination: api.Destination | None,
    voucher_codes: Sequence[str] = (),
    customer_id: int | None = None,
    first_order: bool | None = None,
) -> Basket:
    """Read what the basket needs (catalog, rates, shipping methods, promotions, vouchers), then price it."""
    currency = settings.SHOP_CURRENCY
    included = settings.SHOP_PRICES_INCLUDE_TAX
    lines, destination = checked_lines(lines), checked_destination(destination)
    items = _items(lines, currency) if lines else []
    origin = settings.SHOP_TAX_ORIGIN_COUNTRY or None
    here = TaxPlace(destination.country, destination.postal_code) if destination else TaxPlace(origin)
    places = [here, TaxPlace(origin)] if included and origin != here.country else [here]
    rates, source = tax.rates(places=places, tax_classes={STANDARD, *(item.tax_class for item in items)})
    now = timezone.now()
    goods = sum((item.entered_price * item.quantity for item in items), Money.zero(currency))
    unlocked = vouchers.unlocked_rules(
        voucher_codes, customer_id=customer_id, first_order=first_order, goods=goods, now=now
    )
    return build_basket(
        items=items,
        rates=rates[here],
        origin_rates=rates[places[-1]] if included else None,
        methods=selectors.active_shipping_methods() if items else [],
        rules=[*selectors.running_promotions(now=now), *unlocked] if items else [],
        voucher_rules=unlocked,
        place=here,
        currency=currency,
        destination=destination,
        tax_source=source,
    )


def build_basket(
    *,
    items: Sequence[Item],
    rates: RatesByClass,
    origin_rates: RatesByClass | None,
    methods: Sequence[selectors.Method],
    place: TaxPlace,
    currency: str,
    destination: api.Destination | None,
    tax_source: str,
    rules: Sequence[selectors.Rule] = (),
    voucher_rules: Sequence[selectors.Rule] = (),
) -> Basket:
    """Price the lines and every shipping method that can carry them (pure: what was read comes in).
    ``origin_rates`` are the rates gross prices include (``None``: prices are net); ``rules`` the running
    promotions, which discount the lines (and maybe shipping) before tax (``promotions.apply``), among them
    ``voucher_rules``, the ones codes unlocked."""
    included = origin_rates is not None

    def origin_rate(tax_class: str) -> Decimal | None:
        return origin_rates[tax_class] if origin_rates else None

    targets = [
        promotions.Target(
            sku=item.sku,
            quantity=item.quantity,
            category_ids=item.category_ids,
            subtotal=arithmetic.unit_price(
                item, rate=rates[item.tax_class], origin_rate=origin_rate(item.tax_class), included=included
            )
            * item.quantity,
        )
        for item in items
    ]
    granted = promotions.apply(rules, targets, currency)
    items = [replace(item, discounts=tuple(discounts)) for item, discounts in zip(items, granted.lines, strict=True)]
    priced = [
        arithmetic.price_line(
            item,
            rate=rates[item.tax_class],
            origin_rate=origin_rates[item.tax_class] if origin_rates else None,
            included=included,
        )
        for item in items
    ]
    weight = sum(item.weight_grams * item.quantity for item in items)
    goods = arithmetic.goods_amount(priced, currency).amount
    options: list[tuple[int, api.ShippingCharge]] = []
    for method in shipping.serving(methods, country=place.country, postal_code=place.postal_code) if items else []:
        price = shipping.price_of(method, goods=goods, weight_grams=weight)
        if price is None:
            continue
        charge = arithmetic.price_shipping(
            code=method.code,
            name=method.name,
            delivery_estimate=method.delivery_estimate,
            entered_price=Money(price, currency),
            rate=rates[STANDARD],
            origin_rate=origin_rate(STANDARD),
            included=included,
        )
        if granted.free_shipping is not None and charge.price.amount > 0:
            charge = arithmetic.price_shipping(
                code=method.code,
                name=method.name,
                delivery_estimate=method.delivery_estimate,
                entered_price=Money(price, currency),
                rate=rates[STANDARD],
                origin_rate=origin_rate(STANDARD),
                included=included,
                discounts=promotions.shipping_discount(granted.free_shipping, charge.price),
            )
        options.append((method.position, charge))
    options.sort(key=lambda pc: (pc[1].total.amount, pc[0], pc[1].method))
    return Basket(
        currency=currency,
        included=included,
        destination=destination,
        lines=priced,
        options=[charge for _, charge in options],
        weight_grams=weight,
        tax_source=tax_source,
        voucher_rules=voucher_rules,
    )


def quote_of(basket: Basket, *, shipping_method: str | None) -> api.Quote:
    """The basket with its shipping: the one named (409 when it cannot carry it there), else the cheapest."""
    chosen = basket.options[0] if basket.options else None
    if shipping_method is not None:
        chosen = next((o for o in basket.options if o.method == shipping_method), None)
        if chosen is None:
            raise api.ShippingMethodUnavailable(
                f"{shipping_method!r} does not ship these items there.",
                shipping_method=shipping_method,
                available=[o.method for o in basket.options],
            )
    quote = arithmetic.assemble(
        currency=basket.currency,
        included=basket.included,
        destination=basket.destination,
        lines=basket.lines,
        shipping=chosen,
        weight_grams=basket.weight_grams,
        tax_source=basket.tax_source,
    )
    if not basket.voucher_rules:
        return quote
    discounts = [d for line in quote.lines for d in line.discounts] + (list(chosen.discounts) if chosen else [])
    return replace(quote, vouchers=vouchers.applied(basket.voucher_rules, discounts, basket.currency))


class PricingService:
    """The in-process ``PricingAPI``."""

    context: ClassVar[str] = api.PricingAPI.context

    def quote(
        self,
        *,
        lines: Sequence[api.Line],
        destination: api.Destination | None = None,
        shipping_method: str | None = None,
        customer_id: int | None = None,
        voucher_codes: Sequence[str] = (),
        first_order: bool | None = None,
    ) -> api.Quote:
        _check_customer(customer_id)
        if shipping_method is not None and not METHOD_CODE_RE.match(str(shipping_method)):
            raise _invalid("shipping_method", "A shipping method's code: letters, digits, '-' or '_'.")
        basket = price_basket(
            lines=lines,
            destination=destination,
            voucher_codes=voucher_codes,
            customer_id=customer_id,
            first_order=first_order,
        )
        return quote_of(basket, shipping_method=shipping_method)

    def redeem_vouchers(self, *, customer_id: int, order_reference: str, uses: Sequence[api.VoucherUse]) -> None:
        _check_customer(customer_id)
        return vouchers.redeem(customer_id=customer_id, order_reference=order_reference, uses=uses)

    def release_vouchers(self, *, order_reference: str) -> None:
        return vouchers.release(order_reference=order_reference)

    def shipping_methods(
        self,
        *,
        lines: Sequence[api.Line],
        destination: api.Destination | None = None,
        customer_id: int | None = None,
    ) -> list[api.ShippingCharge]:
        _check_customer(customer_id)
        return price_basket(lines=lines, destination=destination).options


def _check_customer(customer_id: int | None) -> None:
    if customer_id is not None and (
        isinstance(customer_id, bool) or not isinstance(customer_id, int) or customer_id < 1
    ):
        raise _invalid("customer_id", "A customer id is a positive whole number.")
