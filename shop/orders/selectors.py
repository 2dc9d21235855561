"""Reads of orders, always scoped by the caller (a customer sees only their own), in a fixed
number of queries: the orders, then their lines and their history as two prefetches."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from django.db.models import Prefetch, QuerySet

from shop.kernel import Money
from shop.orders import api
from shop.orders.models import Order, OrderLine, OrderStatusChange


def with_details(qs: QuerySet[Order]) -> QuerySet[Order]:
    return qs.prefetch_related(
        Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
        Prefetch("history", queryset=OrderStatusChange.objects.order_by("at", "id")),
    )


def orders_of(*, customer_id: int, status: str | None = None) -> QuerySet[Order]:
    qs = Order.objects.filter(customer_id=customer_id)
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-placed_at", "-id")


def order_of(*, customer_id: int, order_id: int) -> Order | None:
    return with_details(Order.objects.filter(customer_id=customer_id, pk=order_id)).first()


def order_by_id(*, order_id: int) -> Order | None:
    return with_details(Order.objects.filter(pk=order_id)).first()


def order_exists(*, order_id: int) -> bool:
    return Order.objects.filter(pk=order_id).exists()


def orders_by_ids(*, order_ids: Sequence[int]) -> list[Order]:
    found = {o.pk: o for o in with_details(Order.objects.filter(pk__in=list(order_ids)))}
    return [found[i] for i in dict.fromkeys(order_ids) if i in found]


def order_by_key(*, customer_id: int, idempotency_key: str) -> Order | None:
    return with_details(Order.objects.filter(customer_id=customer_id, idempotency_key=idempotency_key)).first()


def to_order_dto(order: Order) -> api.Order:
    currency = order.currency
    address = order.shipping_address or {}
    return api.Order(
        id=order.pk,
        number=order.number,
        customer_id=order.customer_id,
        status=order.status,
        lines=[
            api.OrderLine(
                sku=line.sku,
                product_name=line.product_name,
                variant_name=line.variant_name,
                unit_price=Money(line.unit_price_amount, currency),
                quantity=line.quantity,
                line_total=Money(line.line_total_amount, currency),
                tax_rate=line.tax_rate,
                discount=Money(line.discount_amount, currency),
                discounts=[
                    api.LineDiscount(source=d["source"], label=d["label"], amount=Money(d["amount"], currency))
                    for d in line.discounts or []
                ],
                net=Money(line.net_amount, currency),
                tax=Money(line.tax_amount, currency),
                total=Money(line.total_amount, currency),
            )
            for line in order.lines.all()
        ],
        subtotal=Money(order.subtotal_amount, currency),
        shipping=Money(order.shipping_amount, currency),
        tax=Money(order.tax_amount, currency),
        total=Money(order.total_amount, currency),
        shipping_address=api.ShippingAddress(**{k: str(address.get(k, "")) for k in _ADDRESS_FIELDS}),
        placed_at=order.placed_at,
        payment_due_by=order.payment_due_by if order.status == api.PENDING_PAYMENT else None,
        prices_include_tax=order.prices_include_tax,
        discount=Money(order.discount_amount, currency),
        shipping_method=order.shipping_method,
        shipping_method_name=order.shipping_method_name,
        voucher_codes=list(order.voucher_codes or []),
        tax_breakdown=[
            api.TaxTotal(rate=Decimal(row["rate"]), net=Money(row["net"], currency), tax=Money(row["tax"], currency))
            for row in order.tax_breakdown or []
        ],
        carrier=order.carrier,
        tracking_number=order.tracking_number,
        history=[
            api.StatusChange(
                from_status=change.from_status,
                to_status=change.to_status,
                at=change.at,
                actor=api.ActorKind(change.actor),
                actor_id=change.actor_id,
                note=change.note,
            )
            for change in order.history.all()
        ],
    )


_ADDRESS_FIELDS = ("full_name", "line1", "line2", "city", "postal_code", "region", "country", "phone")


def has_paid_order(*, customer_id: int) -> bool:
    """Whether the customer ever paid an order (what "first order" vouchers look at): one query."""
    return Order.objects.filter(customer_id=customer_id, paid_at__isnull=False).exists()
