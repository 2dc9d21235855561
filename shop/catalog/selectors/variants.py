"""SKU reads other contexts rely on (``CatalogAPI.get_variants``) and the reservation reads behind
``reserve``/``commit``/``release``, with the mapping from rows to public DTOs.

Each read is one query whatever the number of SKUs: callers (cart, checkout) ask for whole baskets.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from uuid import UUID

from shop.catalog import api
from shop.catalog.models import Reservation, Stock, Variant


def available_of(variant: Variant) -> int:
    """``on_hand - reserved``; a variant without a stock row has nothing to sell."""
    try:
        stock = variant.stock
    except Stock.DoesNotExist:
        return 0
    return stock.available


def to_variant_dto(variant: Variant) -> api.Variant:
    """Needs ``product`` and ``stock`` loaded (``variants_by_skus`` does): no query of its own."""
    product = variant.product
    return api.Variant(
        sku=variant.sku,
        product_id=product.pk,
        product_name=product.name,
        product_slug=product.slug,
        name=variant.name,
        # The contract says str -> str; JSON attributes may hold numbers, which must not break the HTTP decode.
        attributes={str(key): str(value) for key, value in (variant.attributes or {}).items()},
        price=variant.price,
        compare_at_price=variant.compare_at_price,
        available=available_of(variant),
        is_active=variant.is_active and product.is_active,
        tax_class=product.tax_class,
        weight_grams=variant.weight_grams,
        category_ids=[int(part) for part in product.category.path.split("/") if part] if product.category_id else [],
    )


def variants_by_skus(*, skus: Sequence[str]) -> list[Variant]:
    """The variants among ``skus`` (duplicates once, unknown ones left out) in the order asked: one query."""
    wanted = list(dict.fromkeys(skus))
    if not wanted:
        return []
    found = {v.sku: v for v in Variant.objects.filter(sku__in=wanted).select_related("product__category", "stock")}
    return [found[sku] for sku in wanted if sku in found]


def reservation_rows(*, reservation_id: UUID) -> list[Reservation]:
    """Every line of a reservation with its SKU, in SKU order (one query)."""
    return list(
        Reservation.objects.filter(reservation_id=reservation_id).select_related("variant").order_by("variant__sku")
    )


def to_reservation_dto(rows: Sequence[Reservation]) -> api.Reservation:
    """All lines of a reservation share id, state and expiry; ``rows`` must be non-empty with ``variant`` loaded."""
    first = rows[0]
    return api.Reservation(
        reservation_id=first.reservation_id,
        state=_state_of(r.state for r in rows),
        expires_at=first.expires_at,
        lines=[api.ReservedLine(sku=r.variant.sku, quantity=r.quantity) for r in sorted(rows, key=_sku)],
    )


def _sku(row: Reservation) -> str:
    return row.variant.sku


def _state_of(states: Iterable[str]) -> str:
    """Lines move together; should they ever differ, "active" wins (something is still held)."""
    distinct = set(states)
    if Reservation.State.ACTIVE in distinct:
        return Reservation.State.ACTIVE.value
    if Reservation.State.COMMITTED in distinct:
        return Reservation.State.COMMITTED.value
    return Reservation.State.RELEASED.value
