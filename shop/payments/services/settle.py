"""The payment status machine: the one place a payment's status changes, always under its row
lock, never backwards, announcing each move in the same transaction (outbox).

    pending | requires_action → requires_action | succeeded | failed
    failed → succeeded (money did arrive: a late success of an attempt we gave up on)
    any but refunded → partially_refunded | refunded (by the refunded total)

So events may arrive in any order: a success after a refund changes nothing, a refund before the
success leaves the payment refunded for good.
"""

from __future__ import annotations

from decimal import Decimal

from shop import registry
from shop.payments import api
from shop.payments.models import Payment

_SETTLED = {api.SUCCEEDED, api.REFUNDED, api.PARTIALLY_REFUNDED}


def lock(payment_id: int) -> Payment:
    payment = Payment.objects.select_for_update().filter(pk=payment_id).first()
    if payment is None:
        raise api.PaymentNotFound(payment_id=payment_id)
    return payment


def to_status(
    payment: Payment,
    status: str,
    *,
    reference: str = "",
    failure_code: str = "",
    failure_message: str = "",
    next_action_url: str = "",
) -> bool:
    """Move a locked payment to ``status`` if that is forward; returns whether it moved."""
    current = payment.status
    if reference and not payment.gateway_reference:
        payment.gateway_reference = reference  # known from the first answer on, whatever the status
        payment.save(update_fields=["gateway_reference", "updated_at"])
    if status == current and status != api.REQUIRES_ACTION:
        return False
    if current in (api.REFUNDED, api.PARTIALLY_REFUNDED):
        return False
    if current == api.SUCCEEDED:
        return False  # only refunds (``refunded_to``) move a succeeded payment
    if current == api.FAILED and status != api.SUCCEEDED:
        return False
    payment.status = status
    if reference:
        payment.gateway_reference = reference
    payment.failure_code = failure_code if status == api.FAILED else ""
    payment.failure_message = failure_message if status == api.FAILED else ""
    payment.next_action_url = next_action_url if status == api.REQUIRES_ACTION else ""
    payment.save()
    if status == api.SUCCEEDED:
        registry.publish(
            api.PaymentSucceeded(
                payment_id=payment.pk, order_id=payment.order_id, customer_id=payment.customer_id, amount=payment.amount
            )
        )
    elif status == api.FAILED:
        registry.publish(
            api.PaymentFailed(
                payment_id=payment.pk,
                order_id=payment.order_id,
                customer_id=payment.customer_id,
                amount=payment.amount,
                reason_code=payment.failure_code,
                message=payment.failure_message,
            )
        )
    return True


def refunded_to(payment: Payment, total: Decimal, *, this_refund: Decimal | None = None) -> bool:
    """Raise a locked payment's refunded total to ``total`` (never lower it: the gateway's totals
    and our own refunds may arrive in any order); returns whether it moved."""
    total = min(total, payment.amount_amount)
    if total <= payment.refunded_amount:
        return False
    step = this_refund if this_refund is not None else total - payment.refunded_amount
    payment.refunded_amount = total
    payment.status = api.REFUNDED if total >= payment.amount_amount else api.PARTIALLY_REFUNDED
    payment.failure_code = payment.failure_message = payment.next_action_url = ""
    payment.save()
    registry.publish(
        api.PaymentRefunded(
            payment_id=payment.pk,
            order_id=payment.order_id,
            customer_id=payment.customer_id,
            amount=payment.money(step),
            total_refunded=payment.refunded,
            fully_refunded=payment.status == api.REFUNDED,
        )
    )
    return True


def is_settled(payment: Payment) -> bool:
    return payment.status in _SETTLED
