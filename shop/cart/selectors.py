"""Reads of carts, and the one place a cart becomes the ``api.Cart`` DTO (prices, availability,
warnings), given the catalog's variants for its lines."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from shop.cart import api
from shop.cart.models import Cart, CartLine
from shop.catalog.api import Variant
from shop.kernel import Money


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def guest_cutoff(*, now: datetime | None = None) -> datetime:
    """Guest carts untouched since before this are expired: invisible at once, deleted by the task."""
    return (now or timezone.now()) - timedelta(days=settings.SHOP_GUEST_CART_TTL_DAYS)


def carts_of(owner: api.Owner) -> QuerySet[Cart]:
    if owner.user_id is not None:
        return Cart.objects.filter(user_id=owner.user_id)
    if owner.guest_token:
        return Cart.objects.filter(token_hash=hash_token(owner.guest_token), updated_at__gte=guest_cutoff())
    return Cart.objects.none()


def cart_with_lines(owner: api.Owner) -> Cart | None:
    """The owner's cart and its lines: two queries, whatever the number of lines."""
    return carts_of(owner).prefetch_related("lines").first()


def lines_of(cart: Cart) -> list[CartLine]:
    """The cart's lines: from the prefetch when the cart came with one (``cart_of``), else one query."""
    return list(cart.lines.all())


def empty_cart(owner: api.Owner) -> api.Cart:
    return api.Cart(
        version=0, lines=[], subtotal=Money.zero(settings.SHOP_CURRENCY), item_count=0, user_id=owner.user_id
    )


def to_cart_dto(
    cart: Cart,
    lines: Sequence[CartLine],
    variants: Mapping[str, Variant],
    *,
    extra_warnings: Sequence[api.CartWarning] = (),
    guest_token: str | None = None,
) -> api.Cart:
    """Today's truth about the cart: catalog prices and availability, and a warning per surprise."""
    currency = settings.SHOP_CURRENCY
    subtotal = Money.zero(currency)
    out_lines: list[api.CartLine] = []
    warnings: list[api.CartWarning] = list(extra_warnings)
    for line in lines:
        variant = variants.get(line.sku)
        sellable = variant is not None and variant.is_active and variant.price.currency == currency
        out_lines.append(_line_dto(line, variant, sellable=sellable))
        warnings.extend(_warnings(line, variant, sellable=sellable))
        if sellable and variant is not None:
            subtotal += variant.price * line.quantity
    return api.Cart(
        version=cart.version,
        lines=out_lines,
        subtotal=subtotal,
        item_count=sum(line.quantity for line in lines),
        warnings=warnings,
        user_id=cart.user_id,
        guest_token=guest_token,
        voucher_codes=list(cart.voucher_codes or []),
    )


def _line_dto(line: CartLine, variant: Variant | None, *, sellable: bool) -> api.CartLine:
    if variant is None:
        return api.CartLine(
            sku=line.sku,
            product_id=None,
            product_name=line.product_name,
            product_slug="",
            variant_name="",
            attributes={},
            quantity=line.quantity,
            unit_price=None,
            line_total=None,
            price_when_added=line.price_when_added,
            available=0,
            is_sold=False,
        )
    return api.CartLine(
        sku=line.sku,
        product_id=variant.product_id,
        product_name=variant.product_name,
        product_slug=variant.product_slug,
        variant_name=variant.name,
        attributes=variant.attributes,
        quantity=line.quantity,
        unit_price=variant.price,
        line_total=variant.price * line.quantity,
        price_when_added=line.price_when_added,
        available=max(variant.available, 0),
        is_sold=sellable,
    )


def _warnings(line: CartLine, variant: Variant | None, *, sellable: bool) -> list[api.CartWarning]:
    name = variant.product_name if variant is not None else (line.product_name or line.sku)
    if variant is None or not sellable:
        return [
            api.CartWarning(code="not_sold", sku=line.sku, detail=f"{name} is no longer sold; remove it to check out.")
        ]
    found: list[api.CartWarning] = []
    if variant.price != line.price_when_added:
        found.append(
            api.CartWarning(
                code="price_changed",
                sku=line.sku,
                detail=f"The price of {name} changed from {line.price_when_added} to {variant.price} since added.",
                previous_price=line.price_when_added,
            )
        )
    if line.quantity > variant.available:
        available = max(variant.available, 0)
        found.append(
            api.CartWarning(
                code="insufficient_stock",
                sku=line.sku,
                detail=f"Only {available} of {name} available; the cart holds {line.quantity}.",
                available=available,
            )
        )
    return found
