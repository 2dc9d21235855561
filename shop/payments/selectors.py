"""Reads of payments, scoped by the caller, and the ``api.Payment`` DTO."""

from __future__ import annotations

from shop.payments import api
from shop.payments.models import Payment


def payment_of(*, customer_id: int, payment_id: int) -> Payment | None:
    return Payment.objects.filter(customer_id=customer_id, pk=payment_id).first()


def payment_by_id(*, payment_id: int) -> Payment | None:
    return Payment.objects.filter(pk=payment_id).first()


def payment_for_order(*, order_id: int) -> Payment | None:
    return Payment.objects.filter(order_id=order_id).first()


def to_payment_dto(payment: Payment) -> api.Payment:
    return api.Payment(
        id=payment.pk,
        order_id=payment.order_id,
        customer_id=payment.customer_id,
        amount=payment.amount,
        refunded=payment.refunded,
        status=payment.status,
        gateway=payment.gateway,
        attempts=payment.attempts,
        failure_code=payment.failure_code,
        failure_message=payment.failure_message,
        next_action_url=payment.next_action_url,
        created_at=payment.created_at,
        updated_at=payment.updated_at,
    )
