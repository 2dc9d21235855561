"""Every event a customer cares about becomes an email. Each handler only gathers what the email
says (from the event, ``UsersAPI`` and ``OrdersAPI``) and queues it; sending is a task."""

from __future__ import annotations

from shop import registry
from shop.notifications import services
from shop.notifications.api import Kind
from shop.orders.api import OrderCancelled, OrderFulfilled, OrderPlaced, OrderRefunded
from shop.payments.api import PaymentFailed, PaymentRefunded, PaymentSucceeded
from shop.users.api import PasswordResetRequested, UserRegistered

_CANCEL_REASONS = {
    "customer": "you asked us to",
    "staff": "by our team",
    "payment_timeout": "it was not paid in time",
    "system": "it was not paid in time",
}


@registry.subscriber(UserRegistered)
def welcome(event: UserRegistered) -> None:
    services.queue(
        event_id=event.event_id,
        kind=Kind.WELCOME,
        recipient=event.email,
        user_id=event.user_id,
        context={"full_name": event.full_name, "email": event.email},
    )


@registry.subscriber(PasswordResetRequested)
def password_reset(event: PasswordResetRequested) -> None:
    services.queue(
        event_id=event.event_id,
        kind=Kind.PASSWORD_RESET,
        recipient=event.email,
        user_id=event.user_id,
        context={
            "full_name": event.full_name,
            "email": event.email,
            "reset_url": event.reset_url,
            "expires_in_minutes": max(1, event.expires_in_s // 60),
        },
    )


@registry.subscriber(OrderPlaced)
def order_confirmation(event: OrderPlaced) -> None:
    services.notify_about_order(event_id=event.event_id, kind=Kind.ORDER_CONFIRMATION, order_id=event.order_id)


@registry.subscriber(PaymentSucceeded)
def payment_receipt(event: PaymentSucceeded) -> None:
    services.notify_about_order(
        event_id=event.event_id, kind=Kind.PAYMENT_RECEIPT, order_id=event.order_id, amount=services.money(event.amount)
    )


@registry.subscriber(PaymentFailed)
def payment_failed(event: PaymentFailed) -> None:
    services.notify_about_order(
        event_id=event.event_id,
        kind=Kind.PAYMENT_FAILED,
        order_id=event.order_id,
        amount=services.money(event.amount),
        reason=services.reason_text(event.reason_code, event.message),
    )


@registry.subscriber(OrderFulfilled)
def order_shipped(event: OrderFulfilled) -> None:
    services.notify_about_order(
        event_id=event.event_id,
        kind=Kind.ORDER_SHIPPED,
        order_id=event.order_id,
        carrier=event.carrier,
        tracking_number=event.tracking_number,
    )


@registry.subscriber(OrderCancelled)
def order_cancelled(event: OrderCancelled) -> None:
    services.notify_about_order(
        event_id=event.event_id,
        kind=Kind.ORDER_CANCELLED,
        order_id=event.order_id,
        reason=_CANCEL_REASONS.get(event.reason, event.reason),
        was_paid=event.was_paid,
    )


@registry.subscriber(OrderRefunded)
def order_refunded(event: OrderRefunded) -> None:
    services.notify_about_order(
        event_id=event.event_id, kind=Kind.ORDER_REFUNDED, order_id=event.order_id, amount=services.money(event.amount)
    )


@registry.subscriber(PaymentRefunded)
def order_partially_refunded(event: PaymentRefunded) -> None:
    """A refund of part of a payment (a full one is the order's ``OrderRefunded``, mailed above): the
    customer learns what came back and how much in all."""
    if event.fully_refunded:
        return
    services.notify_about_order(
        event_id=event.event_id,
        kind=Kind.ORDER_PARTIALLY_REFUNDED,
        order_id=event.order_id,
        amount=services.money(event.amount),
        total_refunded=services.money(event.total_refunded),
    )
