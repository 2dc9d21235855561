"""What orders does when payments reports: a success pays the order (and sells its stock), a full
refund refunds it, a failure leaves it payable. Idempotent and order-safe: the lifecycle service
ignores repeats and never moves an order backwards. And when an order is cancelled (by anyone, or
expired unpaid), its voucher uses go back to pricing."""

from __future__ import annotations

import logging

from shop import registry
from shop.orders.api import OrderCancelled
from shop.orders.services import lifecycle
from shop.payments.api import PaymentFailed, PaymentRefunded, PaymentSucceeded
from shop.pricing.api import PricingAPI

log = logging.getLogger(__name__)


@registry.subscriber(PaymentSucceeded)
def order_paid(event: PaymentSucceeded) -> None:
    lifecycle.payment_succeeded(order_id=event.order_id, payment_id=event.payment_id)


@registry.subscriber(PaymentRefunded)
def order_refunded(event: PaymentRefunded) -> None:
    lifecycle.payment_refunded(
        order_id=event.order_id, amount=event.amount, total=event.total_refunded, fully=event.fully_refunded
    )


@registry.subscriber(PaymentFailed)
def payment_failed(event: PaymentFailed) -> None:
    """The order stays payable; its detail shows the payment's reason. Nothing to move."""
    log.info("payment %s of order %s failed: %s", event.payment_id, event.order_id, event.reason_code)


@registry.subscriber(OrderCancelled)
def give_back_vouchers(event: OrderCancelled) -> None:
    """A cancelled or expired order gives its voucher uses back (pricing's ``release_vouchers`` is
    idempotent, and the bus delivers at least once: a pricing outage only delays it)."""
    registry.get(PricingAPI).release_vouchers(order_reference=event.number)
