# long-module: the order state machine and the money promises around it (expiry asking payments, owed refunds)
"""Order status moves: only forward, only through here, each one recorded in the history and
announced as an event in the same transaction (outbox).

    pending_payment → paid → fulfilled → delivered
    pending_payment → cancelled (stock released)
    paid → cancelled (payment refunded) ; paid | fulfilled | delivered | cancelled-after-paid → refunded

A move locks the order row first, so two staff members (or a webhook and the expiry task) racing
on one order cannot both win: the second sees the new status and is refused or does nothing.

Money is never kept for an order that is not paid. The expiry asks payments before it cancels (a
payment that succeeded, whose event has not arrived, pays the order instead); money that arrives
for an order already cancelled is owed back. A refund the order decided (that one, or cancelling a
paid order) is recorded on the order first (``refund_owed_since``), asked of payments at once, and
retried by ``retry_owed_refunds`` until payments confirms it (the order becomes refunded) or the
attempts run out (``refund_dead_at``: staff see it and retry).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from shop import registry
from shop.catalog.api import CatalogAPI, ReservationExpired
from shop.kernel import ContextUnavailable, Event, Money
from shop.orders import api
from shop.orders.models import Order, OrderStatusChange
from shop.payments import api as payments_api
from shop.payments.api import PaymentsAPI

log = logging.getLogger(__name__)

ALLOWED: dict[str, frozenset[str]] = {
    api.PENDING_PAYMENT: frozenset({api.PAID, api.CANCELLED}),
    api.PAID: frozenset({api.FULFILLED, api.CANCELLED, api.REFUNDED}),
    api.FULFILLED: frozenset({api.DELIVERED, api.REFUNDED}),
    api.DELIVERED: frozenset({api.REFUNDED}),
    api.CANCELLED: frozenset({api.REFUNDED}),  # only an order that had been paid
    api.REFUNDED: frozenset(),
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Actor:
    kind: api.ActorKind
    id: int | None = None


SYSTEM = Actor(kind=api.ActorKind.SYSTEM)
PAYMENTS = Actor(kind=api.ActorKind.PAYMENTS)
EXPIRY_NOTE = "Not paid in time."


def _was_paid(order: Order) -> bool:
    return order.paid_at is not None


def _event(order: Order, to_status: str, *, reason: str, was_paid: bool, amount: Money | None) -> Event | None:
    common: dict[str, Any] = {"order_id": order.pk, "number": order.number, "customer_id": order.customer_id}
    if to_status == api.PAID:
        return api.OrderPaid(**common, total=order.total)
    if to_status == api.CANCELLED:
        return api.OrderCancelled(**common, reason=reason, was_paid=was_paid)
    if to_status == api.FULFILLED:
        return api.OrderFulfilled(**common, carrier=order.carrier, tracking_number=order.tracking_number)
    if to_status == api.DELIVERED:
        return api.OrderDelivered(**common)
    if to_status == api.REFUNDED:
        return api.OrderRefunded(**common, amount=amount or order.total)
    return None


def transition(
    *,
    order_id: int,
    to_status: str,
    actor: Actor,
    note: str = "",
    customer_id: int | None = None,
    reason: str = "",
    amount: Money | None = None,
    only_from: frozenset[str] | None = None,
    **fields: str,
) -> tuple[Order, str]:
    """Move the order and record it; returns the order and the status it came from.
    ``customer_id`` scopes the lookup (a customer acting on someone else's order gets ``OrderNotFound``);
    ``only_from`` narrows the legal starting statuses, checked under the row lock."""
    with registry.atomic("orders"):
        qs = Order.objects.select_for_update().filter(pk=order_id)
        if customer_id is not None:
            qs = qs.filter(customer_id=customer_id)
        order = qs.first()
        if order is None:
            raise api.OrderNotFound(order_id=order_id)
        from_status = order.status
        was_paid = from_status != api.PENDING_PAYMENT and (from_status != api.CANCELLED or _was_paid(order))
        allowed = to_status in ALLOWED[from_status] and (only_from is None or from_status in only_from)
        if not allowed or (from_status == api.CANCELLED and not was_paid):
            raise api.IllegalTransition(
                f"An order that is {from_status.replace('_', ' ')} cannot become {to_status.replace('_', ' ')}.",
                from_status=from_status,
                to_status=to_status,
            )
        order.status = to_status
        for name, value in fields.items():
            setattr(order, name, value)
        changed = ["status", "updated_at", *fields]
        if to_status == api.PAID:
            order.paid_at = timezone.now()
            changed.append("paid_at")
        if to_status == api.REFUNDED and order.refund_owed_since is not None:
            order.refund_next_attempt_at = None  # the refund it owed is done
            changed.append("refund_next_attempt_at")
        order.save(update_fields=changed)
        OrderStatusChange.objects.create(
            order=order, from_status=from_status, to_status=to_status, actor=actor.kind, actor_id=actor.id, note=note
        )
        event = _event(order, to_status, reason=reason or actor.kind, was_paid=was_paid, amount=amount)
        if event is not None:
            registry.publish(event)
    return order, from_status


def _release_stock(order: Order) -> None:
    """Give the held stock back; if the catalog cannot answer now, its own expiry releases it."""
    try:
        registry.get(CatalogAPI).release(reservation_id=order.reservation_id)
    except ContextUnavailable:
        log.warning("catalog unavailable: reservation %s of %s left to expire", order.reservation_id, order.number)


def cancel(*, order_id: int, actor: Actor, note: str = "", customer_id: int | None = None) -> Order:
    """Cancel an unpaid order (its stock goes back at once); anything else is ``IllegalTransition``,
    decided under the row lock, so a payment landing meanwhile wins. Cancelling a paid order means
    refunding it, which needs the payments context (see ``docs/architecture.md``)."""
    order, _ = transition(
        order_id=order_id,
        to_status=api.CANCELLED,
        actor=actor,
        note=note,
        customer_id=customer_id,
        reason=actor.kind if actor.kind != api.ActorKind.SYSTEM else "payment_timeout",
        only_from=frozenset({api.PENDING_PAYMENT}),
    )
    _release_stock(order)
    return order


def mark_paid(*, order_id: int, note: str = "") -> Order:
    """Payment succeeded: ``paid``, and the held stock becomes sold stock. Idempotent and
    order-safe: a repeat, or a success arriving after a later status, changes nothing."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise api.OrderNotFound(order_id=order_id)
    if order.status == api.PENDING_PAYMENT:
        try:
            order, _ = transition(order_id=order_id, to_status=api.PAID, actor=PAYMENTS, note=note)
        except api.IllegalTransition:
            order = Order.objects.get(pk=order_id)  # a concurrent move won; fall through
    if order.status == api.CANCELLED and not _was_paid(order):
        # Money arrived for an order that was cancelled (its payment window closed first): the
        # caller (``payment_succeeded``) refunds it; logged loudly so staff can see it happened.
        log.warning("payment received for cancelled order %s: refunding it", order.number)
    if order.status in (api.PAID, api.FULFILLED, api.DELIVERED):
        try:
            registry.get(CatalogAPI).commit(reservation_id=order.reservation_id)  # idempotent
        except ReservationExpired:
            log.error("order %s was paid after its stock hold expired: staff must check stock", order.number)
    return order


def payment_succeeded(*, order_id: int, payment_id: int) -> Order:
    """``PaymentSucceeded``: pay the order. Money for an order already cancelled (its payment window
    closed first) is owed back: recorded on the order (``paid_at``, a note, the owed refund) and
    refunded in full, retried until payments confirms; the order then becomes refunded and the
    customer is mailed."""
    order = mark_paid(order_id=order_id, note=f"payment {payment_id}")
    if order.status == api.CANCELLED and not _was_paid(order):
        with registry.atomic("orders"):
            locked = Order.objects.select_for_update().get(pk=order_id)
            if locked.paid_at is None:
                locked.paid_at = timezone.now()
                locked.save(update_fields=["paid_at", "updated_at"])
                OrderStatusChange.objects.create(
                    order=locked,
                    from_status=locked.status,
                    to_status=locked.status,
                    actor=PAYMENTS.kind,
                    note=f"Payment {payment_id} arrived after the order was cancelled: refunded automatically.",
                )
                _owe_refund(locked, key=f"order-{order_id}-cancelled")
        attempt_refund(order_id=order_id)
        order = Order.objects.get(pk=order_id)
    return order


def payment_refunded(*, order_id: int, amount: Money, total: Money, fully: bool) -> Order | None:
    """``PaymentRefunded``: a full refund refunds the order (from paid, fulfilled, delivered or
    cancelled-after-paid); a partial one is noted in the history."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise api.OrderNotFound(order_id=order_id)
    if not fully:
        with registry.atomic("orders"):
            OrderStatusChange.objects.create(
                order=order,
                from_status=order.status,
                to_status=order.status,
                actor=PAYMENTS.kind,
                note=f"partially refunded {amount} (total {total})",
            )
        return order
    if order.status == api.PENDING_PAYMENT or (order.status == api.CANCELLED and not _was_paid(order)):
        return order  # money came and went before the order was ever paid: nothing to refund here
    return mark_refunded(order_id=order_id, amount=total, note=f"refunded {total}")


def refund(*, order_id: int, actor: Actor, amount: Money | None = None, note: str = "", key: str = "") -> Order:
    """Staff refund (full, or ``amount``) of a paid order through payments; the order follows when
    payments announces the refund (``PaymentRefunded``)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise api.OrderNotFound(order_id=order_id)
    if order.status not in (api.PAID, api.FULFILLED, api.DELIVERED, api.CANCELLED):
        raise api.IllegalTransition(
            f"An order that is {order.status.replace('_', ' ')} has nothing to refund.",
            from_status=order.status,
            to_status=api.REFUNDED,
        )
    payments = registry.get(PaymentsAPI)
    payment = payments.payment_for_order(order_id=order_id)
    if payment is None:
        raise api.IllegalTransition(
            "This order has no payment to refund.", from_status=order.status, to_status=api.REFUNDED
        )
    payments.refund(
        payment_id=payment.id,
        amount=amount,
        reason=note or f"refund by {actor.kind}",
        idempotency_key=key
        or f"order-{order_id}-refund-{payment.refunded.amount}-{amount.amount if amount else 'all'}",
    )
    return Order.objects.get(pk=order_id)


def cancel_paid(*, order_id: int, actor: Actor, note: str = "") -> Order:
    """Cancel a paid (not yet shipped) order: cancelled now, and a full refund owed in the same
    transaction, then asked of payments; if payments cannot do it now, ``retry_owed_refunds`` keeps
    asking. The order becomes refunded when payments confirms. Its stock stays sold (a return is
    staff's job)."""
    with registry.atomic("orders"):
        order, _ = transition(
            order_id=order_id,
            to_status=api.CANCELLED,
            actor=actor,
            note=note,
            reason=actor.kind,
            only_from=frozenset({api.PAID}),
        )
        _owe_refund(order, key=f"order-{order_id}-cancel")
    attempt_refund(order_id=order_id)
    return Order.objects.get(pk=order_id)


def _owe_refund(order: Order, *, key: str) -> None:
    """Record, on a locked order, that its payment is owed back in full (once: a second call keeps
    the first key, so every retry is the same refund to payments)."""
    if order.refund_owed_since is not None:
        return
    order.refund_owed_since = order.refund_next_attempt_at = timezone.now()
    order.refund_key = key
    order.refund_attempts = 0
    order.refund_error = ""
    order.refund_dead_at = None
    order.save(
        update_fields=[
            "refund_owed_since",
            "refund_next_attempt_at",
            "refund_key",
            "refund_attempts",
            "refund_error",
            "refund_dead_at",
            "updated_at",
        ]
    )


def _refund_backoff_s(attempts: int) -> float:
    return float(min(settings.SHOP_REFUND_RETRY_BASE_S * 2 ** max(attempts - 1, 0), 3600))


def attempt_refund(*, order_id: int) -> str:
    """Ask payments for the refund the order owes, once. Returns what happened: ``done`` (payments
    refunded it; its event makes the order refunded), ``retry`` (payments could not do it now: the
    next attempt is scheduled), ``dead`` (out of attempts, or payments refuses: staff decide),
    ``nothing`` (no refund owed)."""
    order = Order.objects.filter(pk=order_id).first()
    if order is None or not order.refund_pending or order.refund_dead_at is not None:
        return "nothing"
    payments = registry.get(PaymentsAPI)
    error = ""
    try:
        payment = payments.payment_for_order(order_id=order_id)
        if payment is None:
            return _refund_failed(order_id, "the order has no payment", final=True)
        if payment.status != payments_api.REFUNDED:
            payment = payments.refund(
                payment_id=payment.id,
                amount=None,
                reason="order cancelled after payment",
                idempotency_key=order.refund_key,
            )
        if payment.status == payments_api.REFUNDED:
            # Normally ``PaymentRefunded`` moves the order; when the refund was made earlier (or its
            # event is late), move it here: the refund is done either way.
            if Order.objects.filter(pk=order_id, status=api.CANCELLED).exists():
                mark_refunded(order_id=order_id, amount=payment.refunded, note=f"refunded {payment.refunded}")
            return "done"
        error = f"payment is {payment.status} after the refund"
    except payments_api.NotRefundable as exc:
        return _refund_failed(order_id, f"payments refuses: {exc.detail}", final=True)
    except (payments_api.GatewayUnavailable, ContextUnavailable) as exc:
        error = str(getattr(exc, "detail", "") or exc)
    return _refund_failed(order_id, error, final=False)


def _refund_failed(order_id: int, error: str, *, final: bool) -> str:
    with registry.atomic("orders"):
        order = Order.objects.select_for_update().get(pk=order_id)
        order.refund_attempts += 1
        order.refund_error = error[:255]
        dead = final or order.refund_attempts >= settings.SHOP_REFUND_MAX_ATTEMPTS
        if dead:
            order.refund_dead_at = timezone.now()
            order.refund_next_attempt_at = None
            log.error(
                "refund owed for order %s given up after %s attempt(s): %s", order.number, order.refund_attempts, error
            )
        else:
            order.refund_next_attempt_at = timezone.now() + timedelta(seconds=_refund_backoff_s(order.refund_attempts))
            log.warning("refund owed for order %s failed (attempt %s): %s", order.number, order.refund_attempts, error)
        order.save(
            update_fields=["refund_attempts", "refund_error", "refund_dead_at", "refund_next_attempt_at", "updated_at"]
        )
    return "dead" if dead else "retry"


def retry_owed_refunds(*, limit: int = 100) -> int:
    """One batch of owed refunds whose next attempt is due; returns how many were done."""
    due = list(
        Order.objects.filter(
            refund_owed_since__isnull=False,
            refund_dead_at__isnull=True,
            refund_next_attempt_at__lte=timezone.now(),
        )
        .exclude(status=api.REFUNDED)
        .order_by("refund_next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    return sum(1 for order_id in due if attempt_refund(order_id=order_id) == "done")


def retry_refund_now(*, order_id: int) -> str:
    """Staff: try a dead (or waiting) owed refund again now, with fresh attempts."""
    with registry.atomic("orders"):
        updated = (
            Order.objects.filter(pk=order_id, refund_owed_since__isnull=False)
            .exclude(status=api.REFUNDED)
            .update(refund_dead_at=None, refund_attempts=0, refund_next_attempt_at=timezone.now())
        )
    if not updated:
        return "nothing"
    return attempt_refund(order_id=order_id)


def owed_refunds() -> Q:
    """The filter of orders with a refund decided and not confirmed (for staff lists)."""
    return Q(refund_owed_since__isnull=False) & ~Q(status=api.REFUNDED)


def fulfil(*, order_id: int, carrier: str, tracking_number: str, actor: Actor, note: str = "") -> Order:
    order, _ = transition(
        order_id=order_id,
        to_status=api.FULFILLED,
        actor=actor,
        note=note or f"{carrier} {tracking_number}",
        carrier=carrier.strip(),
        tracking_number=tracking_number.strip(),
    )
    return order


def deliver(*, order_id: int, actor: Actor, note: str = "") -> Order:
    order, _ = transition(order_id=order_id, to_status=api.DELIVERED, actor=actor, note=note)
    return order


def mark_refunded(*, order_id: int, amount: Money | None = None, actor: Actor = PAYMENTS, note: str = "") -> Order:
    order = Order.objects.filter(pk=order_id).first()
    if order is None:
        raise api.OrderNotFound(order_id=order_id)
    if order.status == api.REFUNDED:
        return order  # a repeated event
    order, _ = transition(order_id=order_id, to_status=api.REFUNDED, actor=actor, note=note, amount=amount)
    return order


def payment_due_by() -> Any:
    return timezone.now() + timedelta(seconds=settings.SHOP_ORDER_PAYMENT_TTL_S)


def is_overdue(order: Order) -> bool:
    """Awaiting payment past its payment window: the order must not be paid any more, but expired."""
    due = order.payment_due_by
    return order.status == api.PENDING_PAYMENT and due is not None and due <= timezone.now()


def expire(*, order_id: int) -> Order:
    """Expire one order whose payment window closed: cancelled, its stock released. The one way an
    unpaid order times out, whoever notices first (the periodic job, or a pay request arriving late),
    so correctness never waits for the scheduler. Payments is asked first: a payment that succeeded
    (its ``PaymentSucceeded`` not delivered yet, or lost) pays the order instead, which is returned.
    ``IllegalTransition`` if it was paid (or cancelled) meanwhile; ``ContextUnavailable`` when
    payments cannot answer (nothing changes: the next run asks again)."""
    payment = registry.get(PaymentsAPI).payment_for_order(order_id=order_id)
    if payment is not None and payment.status in (payments_api.SUCCEEDED, payments_api.PARTIALLY_REFUNDED):
        log.warning("order %s: its payment %s succeeded but the order was not paid; paying it", order_id, payment.id)
        return payment_succeeded(order_id=order_id, payment_id=payment.id)
    return cancel(order_id=order_id, actor=SYSTEM, note=EXPIRY_NOTE)


def was_expired(order: Order) -> bool:
    """Cancelled because it was not paid in time (by ``expire``)."""
    last = list(order.history.all())[-1:]  # the history is prefetched by the selectors
    return order.status == api.CANCELLED and bool(last) and (last[0].actor, last[0].note) == (SYSTEM.kind, EXPIRY_NOTE)


def cancel_unpaid(*, limit: int = 200) -> int:
    """Cancel one batch of orders whose payment window closed, releasing their stock."""
    ids = list(
        Order.objects.filter(status=api.PENDING_PAYMENT, payment_due_by__lt=timezone.now())
        .order_by("payment_due_by")
        .values_list("pk", flat=True)[:limit]
    )
    cancelled = 0
    for order_id in ids:
        try:
            cancelled += expire(order_id=order_id).status == api.CANCELLED
        except api.IllegalTransition:
            continue  # paid (or cancelled) meanwhile
        except ContextUnavailable:
            log.warning("payments unavailable: order %s not expired this run", order_id)
    return cancelled
