"""Read queries of pricing, each a fixed number of statements whatever the basket: the tax rows of the
asked countries (one query), the active shipping methods with their zones and bands (two) and the running
promotions (one).

Rows become plain records here, so the quoting arithmetic (``services``) never touches the ORM.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch, Q

from shop.pricing.models import Promotion, ShippingBand, ShippingMethod, TaxRate


def tax_rate_rows(countries: Collection[str]) -> list[tuple[str, str, Decimal]]:
    """``(country, class code, percentage)`` of the given countries ("" is elsewhere): one query."""
    return list(TaxRate.objects.filter(country__in=list(countries)).values_list("country", "tax_class__code", "rate"))


@dataclass(frozen=True, kw_only=True, slots=True)
class Band:
    up_to: Decimal | None
    price: Decimal


@dataclass(frozen=True, kw_only=True, slots=True)
class Method:
    """An active shipping method with what deciding and pricing it needs."""

    code: str
    name: str
    delivery_estimate: str
    pricing: str
    flat_price: Decimal
    free_over: Decimal | None
    position: int
    zone_countries: frozenset[str]  # empty: every country
    zone_postal_prefixes: tuple[str, ...]  # normalised (upper case, no spaces); empty: every postal code
    bands: tuple[Band, ...]  # lowest bound first, the open band last


def normalise_postal_code(text: str) -> str:
    """Postal codes and prefixes compare without spaces or case ("sw1a 1aa" starts with "SW1")."""
    return "".join(text.split()).upper()


def active_shipping_methods() -> list[Method]:
    """Every active method with its zone and bands: two queries (methods with zones, then bands)."""
    bands = Prefetch("bands", queryset=ShippingBand.objects.order_by("method_id", "up_to"))
    rows = ShippingMethod.objects.filter(is_active=True).select_related("zone").prefetch_related(bands)
    methods = []
    for row in rows:
        ordered = sorted(row.bands.all(), key=lambda b: (b.up_to is None, b.up_to or Decimal(0)))
        prefixes = (normalise_postal_code(p) for p in row.zone.postal_code_prefixes.split(","))
        methods.append(
            Method(
                code=row.code,
                name=row.name,
                delivery_estimate=row.delivery_estimate,
                pricing=row.pricing,
                flat_price=row.flat_price,
                free_over=row.free_over,
                position=row.position,
                zone_countries=frozenset(str(country) for country in row.zone.countries),
                zone_postal_prefixes=tuple(p for p in prefixes if p),
                bands=tuple(Band(up_to=b.up_to, price=b.price) for b in ordered),
            )
        )
    return methods


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """An active promotion as the quoting arithmetic reads it (``services.promotions``)."""

    id: int
    label: str
    kind: str  # "catalogue" or "order"
    benefit: str  # "percentage", "fixed" or "free_shipping"
    value: Decimal
    everything: bool = False
    skus: frozenset[str] = frozenset()
    category_ids: frozenset[int] = frozenset()
    min_subtotal: Decimal | None = None
    exclusive: bool = False
    priority: int = 0
    buy_quantity: int = 0  # buy X get Y
    get_quantity: int = 0
    max_applications: int | None = None


def running_promotions(*, now: datetime) -> list[Rule]:
    """Every active promotion whose window holds ``now``: one query."""
    rows = Promotion.objects.filter(is_active=True).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now), Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )
    return [
        Rule(
            id=row.pk,
            label=row.label or row.name,
            kind=row.kind,
            benefit=row.benefit,
            value=row.value,
            everything=row.everything,
            skus=frozenset(part for part in re.split(r"[\s,]+", row.skus) if part),
            category_ids=frozenset(int(i) for i in row.category_ids or [] if str(i).isdigit()),
            min_subtotal=row.min_subtotal,
            exclusive=row.exclusive,
            priority=row.priority,
            buy_quantity=row.buy_quantity or 0,
            get_quantity=row.get_quantity or 0,
            max_applications=row.max_applications,
        )
        for row in rows
    ]
