"""Use cases of payments, and ``PaymentsService``, the in-process ``PaymentsAPI``.

``charges``: start a payment, refund, reconcile; ``webhooks``: ingest and process provider
events; ``settle``: the status machine both go through; ``calls``: retries, breaker, ledger;
``gateways``: the provider adapters behind one port; ``simulation``: the simulated provider
clearing its delayed payments.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from shop.kernel import Money
from shop.payments import api, selectors
from shop.payments.services import charges


class PaymentsService:
    """In-process implementation of ``api.PaymentsAPI``."""

    context: ClassVar[str] = api.PaymentsAPI.context

    def start_payment(
        self,
        *,
        order_id: int,
        customer_id: int,
        amount: Money,
        token: str,
        idempotency_key: str,
        return_url: str = "",
        order_number: str = "",
    ) -> api.Payment:
        return charges.start_payment(
            order_id=order_id,
            customer_id=customer_id,
            amount=amount,
            token=token,
            idempotency_key=idempotency_key,
            return_url=return_url,
            order_number=order_number,
        )

    def get_payment(self, *, payment_id: int) -> api.Payment:
        payment = selectors.payment_by_id(payment_id=payment_id)
        if payment is None:
            raise api.PaymentNotFound(payment_id=payment_id)
        return selectors.to_payment_dto(payment)

    def payment_for_order(self, *, order_id: int) -> api.Payment | None:
        payment = selectors.payment_for_order(order_id=order_id)
        return selectors.to_payment_dto(payment) if payment is not None else None

    def payments_for_orders(self, *, order_ids: Sequence[int]) -> list[api.Payment]:
        if isinstance(order_ids, str | bytes) or len(set(order_ids)) > api.MAX_ORDERS_PER_CALL:
            raise api.ValidationFailed(f"At most {api.MAX_ORDERS_PER_CALL} order ids per call.")
        return [selectors.to_payment_dto(p) for p in selectors.payments_for_orders(order_ids=order_ids)]

    def refunds_for_order(self, *, order_id: int) -> list[api.Refund]:
        return selectors.refunds_for_order(order_id=order_id)

    def refund(self, *, payment_id: int, amount: Money | None, reason: str, idempotency_key: str) -> api.Payment:
        return charges.refund(payment_id=payment_id, amount=amount, reason=reason, idempotency_key=idempotency_key)


__all__ = ["PaymentsService"]
