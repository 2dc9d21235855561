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

from django.db.models import Count, Prefetch, Q, QuerySet

from shop.pricing.models import Promotion, ShippingBand, ShippingMethod, TaxRate, Voucher, VoucherUse


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
    source: str = ""  # what its discounts name: "promotion:<id>", or "voucher:<code>" for one a code unlocked


def running_promotions(*, now: datetime) -> list[Rule]:
    """Every active automatic promotion whose window holds ``now``: one query."""
    rows = Promotion.objects.filter(is_active=True, requires_voucher=False).filter(
        Q(starts_at__isnull=True) | Q(starts_at__lte=now), Q(ends_at__isnull=True) | Q(ends_at__gt=now)
    )
    return [rule_of(row) for row in rows]


def rule_of(row: Promotion, *, source: str = "") -> Rule:
    return Rule(
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
        source=source or f"promotion:{row.pk}",
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class VoucherRecord:
    """A voucher as quoting checks it, with its promotion as a rule whose discounts name the code."""

    id: int
    code: str
    is_active: bool
    starts_at: datetime | None
    ends_at: datetime | None
    usage_limit: int | None
    per_customer_limit: int | None
    used: int
    min_subtotal: Decimal | None
    first_order_only: bool
    promotion_running: bool  # the promotion is active and within its own window
    rule: Rule


def vouchers_by_codes(codes: Collection[str], *, now: datetime) -> dict[str, VoucherRecord]:
    """The vouchers among ``codes`` with their promotions: one query."""
    found = {}
    for voucher in Voucher.objects.filter(code__in=list(codes)).select_related("promotion"):
        promotion = voucher.promotion
        running = (
            promotion.is_active
            and (promotion.starts_at is None or promotion.starts_at <= now)
            and (promotion.ends_at is None or promotion.ends_at > now)
        )
        found[voucher.code] = VoucherRecord(
            id=voucher.pk,
            code=voucher.code,
            is_active=voucher.is_active,
            starts_at=voucher.starts_at,
            ends_at=voucher.ends_at,
            usage_limit=voucher.usage_limit,
            per_customer_limit=voucher.per_customer_limit,
            used=voucher.used,
            min_subtotal=voucher.min_subtotal,
            first_order_only=voucher.first_order_only,
            promotion_running=running,
            rule=rule_of(promotion, source=f"voucher:{voucher.code}"),
        )
    return found


def uses_held_by(customer_id: int, voucher_ids: Collection[int]) -> dict[int, int]:
    """How many uses of each voucher ``customer_id`` holds now (not given back): one query."""
    rows = (
        VoucherUse.objects.filter(customer_id=customer_id, voucher_id__in=list(voucher_ids), released_at__isnull=True)
        .values("voucher_id")
        .annotate(held=Count("id"))
    )
    return {row["voucher_id"]: row["held"] for row in rows}


def promotions() -> QuerySet[Promotion]:
    """Every promotion, in the order quotes consider them."""
    return Promotion.objects.order_by("-priority", "id")


def promotion(*, promotion_id: int) -> Promotion | None:
    return Promotion.objects.filter(pk=promotion_id).first()


def promotion_takes_vouchers(*, promotion_id: int) -> bool:
    return Promotion.objects.filter(pk=promotion_id, requires_voucher=True).exists()


def vouchers(*, batch: str | None = None, promotion_id: int | None = None) -> QuerySet[Voucher]:
    rows = Voucher.objects.order_by("-created_at", "-id")
    if batch:
        rows = rows.filter(batch=batch)
    if promotion_id:
        rows = rows.filter(promotion_id=promotion_id)
    return rows


def uses_of(*, code: str) -> QuerySet[VoucherUse] | None:
    """The code's uses, newest first; None when there is no such code."""
    voucher = Voucher.objects.filter(code=code).first()
    return None if voucher is None else VoucherUse.objects.filter(voucher=voucher).order_by("-created_at", "-id")
