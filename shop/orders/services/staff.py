"""What a staff action would do to each order, worked out before anything moves, so the admin can
show it and ask first. The same rules as the moves themselves: the lifecycle's transitions
(``lifecycle.ALLOWED``) and, for money, payments' own figures — one ``payments_for_orders`` call for
the whole selection, never one per order. Nothing here changes anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

from shop import registry
from shop.kernel import Money
from shop.orders import api
from shop.orders.models import Order
from shop.orders.services import lifecycle
from shop.payments import api as payments_api
from shop.payments.api import PaymentsAPI

_SETTLED = (payments_api.SUCCEEDED, payments_api.PARTIALLY_REFUNDED)


def statuses_to(to_status: str) -> frozenset[str]:
    """The statuses an order may move to ``to_status`` from."""
    return frozenset(status for status, allowed in lifecycle.ALLOWED.items() if to_status in allowed)


# Cancelling comes in two kinds: an unpaid order is cancelled and its stock released; a paid one that
# has not shipped is cancelled and refunded. Anything else is refunded, never cancelled.
CANCELLABLE_UNPAID = frozenset({api.PENDING_PAYMENT}) & statuses_to(api.CANCELLED)
CANCELLABLE_PAID = frozenset({api.PAID}) & statuses_to(api.CANCELLED)


@dataclass(frozen=True, kw_only=True, slots=True)
class Preview:
    """What will happen to one order (``refusal`` empty), or why nothing will."""

    order_id: int
    refusal: str = ""
    refund: Money | None = None  # what goes back to the customer
    refundable: Money | None = None  # what is left of the payment before this refund
    paid: Money | None = None  # what the payment took
    payment_id: int | None = None
    stock_back: tuple[tuple[str, int], ...] = ()  # (SKU, quantity) released back to stock

    @property
    def left_after(self) -> Money | None:
        return self.refundable - self.refund if self.refundable is not None and self.refund is not None else None


def _status(order: Order) -> str:
    return order.status.replace("_", " ")


def cancel_unpaid(orders: Sequence[Order]) -> dict[int, Preview]:
    """Orders awaiting payment are cancelled and every unit they hold goes back to stock."""
    previews: dict[int, Preview] = {}
    for order in orders:
        if order.status not in CANCELLABLE_UNPAID:
            why = f"it is {_status(order)}: only an order awaiting payment is cancelled here (a paid one is refunded)."
            previews[order.pk] = Preview(order_id=order.pk, refusal=why)
            continue
        held = tuple((line.sku, line.quantity) for line in order.lines.all())
        previews[order.pk] = Preview(order_id=order.pk, stock_back=held)
    return previews


def refund(orders: Sequence[Order], amounts: Mapping[int, Money] | None = None) -> dict[int, Preview]:
    """What each order's refund would send back: ``amounts[order id]``, or (no amount) all that is
    left of its payment. Raises ``ContextUnavailable`` when payments cannot answer."""
    refundable_statuses = statuses_to(api.REFUNDED)
    payments = _payments(orders)
    previews: dict[int, Preview] = {}
    for order in orders:
        wanted = (amounts or {}).get(order.pk)
        if order.status not in refundable_statuses:
            why = (
                "it is refunded already."
                if order.status == api.REFUNDED
                else f"it is {_status(order)}: nothing was paid."
            )
            previews[order.pk] = Preview(order_id=order.pk, refusal=why)
            continue
        previews[order.pk] = _money_back(order, payments.get(order.pk), wanted)
    return previews


def cancel_paid(orders: Sequence[Order]) -> dict[int, Preview]:
    """Paid orders that have not shipped are cancelled and refunded in full; their stock stays sold.
    Raises ``ContextUnavailable`` when payments cannot answer."""
    payments = _payments(orders)
    previews: dict[int, Preview] = {}
    for order in orders:
        if order.status not in CANCELLABLE_PAID:
            why = f"it is {_status(order)}: only a paid order that has not shipped is cancelled here (refund it)."
            previews[order.pk] = Preview(order_id=order.pk, refusal=why)
            continue
        previews[order.pk] = _money_back(order, payments.get(order.pk), None)
    return previews


def _payments(orders: Sequence[Order]) -> dict[int, payments_api.Payment]:
    ids = [order.pk for order in orders]
    found = registry.get(PaymentsAPI).payments_for_orders(order_ids=ids) if ids else []
    return {payment.order_id: payment for payment in found}


def _money_back(order: Order, payment: payments_api.Payment | None, wanted: Money | None) -> Preview:
    if payment is None:
        return Preview(order_id=order.pk, refusal="it has no payment to refund.")
    found = Preview(order_id=order.pk, payment_id=payment.id, paid=payment.amount)
    if payment.status not in _SETTLED:
        status = payment.status.replace("_", " ")
        return replace(found, refusal=f"its payment is {status}: only a succeeded payment is refunded.")
    left = payment.amount - payment.refunded
    if left.amount <= 0:
        return replace(found, refusal="nothing is left of its payment to refund.")
    if wanted is not None and (wanted.currency != left.currency or wanted.amount > left.amount):
        return replace(found, refundable=left, refusal=f"{wanted} is more than the {left} left of its payment.")
    return replace(found, refundable=left, refund=wanted if wanted is not None else left)
