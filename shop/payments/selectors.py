"""Reads of payments, scoped by the caller, and the ``api.Payment`` DTO."""

from __future__ import annotations

from collections.abc import Sequence

from shop.payments import api
from shop.payments.models import Payment, Transaction


def payment_of(*, customer_id: int, payment_id: int) -> Payment | None:
    return Payment.objects.filter(customer_id=customer_id, pk=payment_id).first()


def payment_by_id(*, payment_id: int) -> Payment | None:
    return Payment.objects.filter(pk=payment_id).first()


def payment_for_order(*, order_id: int) -> Payment | None:
    return Payment.objects.filter(order_id=order_id).first()


def payments_for_orders(*, order_ids: Sequence[int]) -> list[Payment]:
    return list(Payment.objects.filter(order_id__in=list(order_ids)).order_by("order_id"))


def refunds_for_order(*, order_id: int) -> list[api.Refund]:
    rows = Transaction.objects.filter(payment__order_id=order_id, kind=api.TransactionKind.REFUND).select_related(
        "payment"
    )
    return [
        api.Refund(
            payment_id=row.payment_id,
            amount=row.payment.money(row.amount_amount or 0),
            outcome=row.outcome,
            created_at=row.created_at,
        )
        for row in rows.order_by("created_at", "id")
    ]


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
