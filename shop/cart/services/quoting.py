"""What the cart will cost: pricing's quote of its lines, and the shipping methods that reach a place.

The cart asks pricing; it never computes tax or shipping itself. A quote is for the country the client
names, else the signed-in customer's default address, else pricing's estimate (the shop's origin). It
remembers each line's tax rate the first time it is quoted for a country, so a rate that changes before
checkout is a ``tax_rate_changed`` warning on the cart, as a price change is ``price_changed``. Voucher codes
are applied here (pricing checks them); one that stops applying is a ``voucher_not_applied`` warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import F

from shop import registry
from shop.cart import api, selectors
from shop.cart.models import Cart, CartLine
from shop.cart.services import get_cart
from shop.kernel import ContextUnavailable
from shop.pricing.api import (
    Destination,
    Line,
    PricingAPI,
    Quote,
    ShippingCharge,
    TaxUnavailable,
    VoucherError,
    VoucherNotApplicable,
)
from shop.users.api import UsersAPI

QUOTE_UNAVAILABLE = "Tax and shipping cannot be calculated right now; the prices above are current."


@dataclass(frozen=True, kw_only=True, slots=True)
class CartQuote:
    """The cart's quote (``None`` for nothing to price, or when pricing cannot answer now) and the
    warnings it raised."""

    quote: Quote | None
    warnings: list[api.CartWarning] = field(default_factory=list)


def shipping_methods(*, owner: api.Owner, country: str, postal_code: str = "") -> list[ShippingCharge]:
    """The shipping methods that take this cart to ``country`` (and ``postal_code``), priced by pricing
    for these lines, cheapest first; none for an empty cart (or no cart yet)."""
    cart = selectors.cart_with_lines(owner)
    lines = [Line(sku=line.sku, quantity=line.quantity) for line in selectors.lines_of(cart)] if cart else []
    if not lines:
        return []
    return registry.get(PricingAPI).shipping_methods(
        lines=lines, destination=Destination(country=country, postal_code=postal_code), customer_id=owner.user_id
    )


def destination_for(*, owner: api.Owner, country: str = "", postal_code: str = "") -> Destination | None:
    """The country asked for; else the customer's default address (if users answers); else none."""
    if country:
        return Destination(country=country, postal_code=postal_code)
    if owner.user_id is None:
        return None
    try:
        address = registry.get(UsersAPI).get_default_address(user_id=owner.user_id)
    except ContextUnavailable:
        return None
    return Destination(country=address.country, postal_code=address.postal_code) if address else None


def quote_cart(
    *,
    owner: api.Owner,
    cart: api.Cart,
    country: str = "",
    postal_code: str = "",
    shipping_method: str | None = None,
) -> CartQuote:
    """Pricing's quote of the lines that can be bought. ``ShippingMethodUnavailable`` (a method that
    does not reach the destination) propagates: the client named it. Pricing unreachable, or the tax
    service down with fail-closed on, is a ``quote_unavailable`` warning instead: the cart still works."""
    lines = [Line(sku=line.sku, quantity=line.quantity) for line in cart.lines if line.is_sold and line.unit_price]
    if not lines:
        return CartQuote(quote=None)
    destination = destination_for(owner=owner, country=country, postal_code=postal_code)
    pricing = registry.get(PricingAPI)
    codes, warnings = list(cart.voucher_codes), []
    try:
        while True:
            try:
                quote = pricing.quote(
                    lines=lines,
                    destination=destination,
                    shipping_method=shipping_method,
                    customer_id=owner.user_id,
                    voucher_codes=codes,
                )
                break
            except VoucherError as refused:  # a code that applied no longer does: say so, quote without it
                code = str(refused.extra.get("voucher", ""))
                if code not in codes:
                    raise
                codes.remove(code)
                warnings.append(
                    api.CartWarning(code="voucher_not_applied", sku="", detail=refused.detail, voucher=code)
                )
    except (TaxUnavailable, ContextUnavailable):
        unavailable = api.CartWarning(code="quote_unavailable", sku="", detail=QUOTE_UNAVAILABLE)
        return CartQuote(quote=None, warnings=[unavailable])
    return CartQuote(quote=quote, warnings=[*warnings, *_rate_warnings(owner=owner, quote=quote)])


def apply_voucher(*, owner: api.Owner, code: str) -> api.Cart:
    """Apply ``code`` if pricing accepts it for this cart and it takes something off (else its
    ``VoucherError``: unknown, expired, exhausted, below its minimum, not applicable)."""
    cart = get_cart(owner=owner)
    lines = [Line(sku=line.sku, quantity=line.quantity) for line in cart.lines if line.is_sold and line.unit_price]
    wanted = str(code).strip().upper()
    if not lines:
        raise VoucherNotApplicable("Add items to the cart first.", voucher=wanted[:40])
    if wanted in cart.voucher_codes:
        return cart
    quote = registry.get(PricingAPI).quote(
        lines=lines,
        destination=destination_for(owner=owner),
        customer_id=owner.user_id,
        voucher_codes=[*cart.voucher_codes, wanted],
    )
    if not any(v.code == wanted and v.discount.amount > 0 for v in quote.vouchers):
        raise VoucherNotApplicable("This voucher takes nothing off these items.", voucher=wanted)
    _set_codes(owner, add=wanted)
    return get_cart(owner=owner)


def remove_voucher(*, owner: api.Owner, code: str) -> api.Cart:
    """Take ``code`` off the cart (no error if it is not on it)."""
    _set_codes(owner, remove=str(code).strip().upper())
    return get_cart(owner=owner)


def _set_codes(owner: api.Owner, *, add: str = "", remove: str = "") -> None:
    with registry.atomic("cart"):
        cart = selectors.carts_of(owner).select_for_update().first()
        if cart is None:
            raise api.CartNotFound("No cart yet: add an item first.")
        codes = [c for c in cart.voucher_codes or [] if c != remove]
        if add and add not in codes:
            codes.append(add)
        if codes != cart.voucher_codes:
            Cart.objects.filter(pk=cart.pk).update(voucher_codes=codes, version=F("version") + 1)


def _rate_warnings(*, owner: api.Owner, quote: Quote) -> list[api.CartWarning]:
    """Compare each line's rate with the one first quoted for this country (recording it on first
    sight: one read, and one write only when something is recorded)."""
    if quote.destination is None or quote.estimated:
        return []
    country = quote.destination.country
    cart = selectors.cart_with_lines(owner)
    if cart is None:
        return []
    rows = {row.sku: row for row in selectors.lines_of(cart)}
    fresh_country = cart.quoted_country != country
    recorded: list[CartLine] = []
    warnings = []
    for line in quote.lines:
        row = rows.get(line.sku)
        if row is None:
            continue
        if fresh_country or row.tax_rate_when_quoted is None:
            row.tax_rate_when_quoted = line.tax_rate
            recorded.append(row)
        elif row.tax_rate_when_quoted != line.tax_rate:
            previous = row.tax_rate_when_quoted
            warnings.append(
                api.CartWarning(
                    code="tax_rate_changed",
                    sku=line.sku,
                    detail=f"The tax rate changed from {previous.normalize():f} % to {line.tax_rate.normalize():f} %.",
                    previous_tax_rate=previous,
                )
            )
    if recorded or fresh_country:
        with registry.atomic("cart"):
            CartLine.objects.bulk_update(recorded, ["tax_rate_when_quoted"])
            if fresh_country:
                Cart.objects.filter(pk=cart.pk).update(quoted_country=country)
    return warnings
