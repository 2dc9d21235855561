"""No order keeps money it should not (issue 12 items 2 and 3).

* The ``PaymentSucceeded → orders`` delivery is lost (the handler never runs), then the unpaid-order
  expiry runs: it asks payments first and the order ends paid, never cancelled with the money kept.
* A refund an order owes (cancelled after payment) that payments cannot make now is recorded on the
  order, retried by the sweep until it is done, and dead after its attempts, for staff to retry.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from shop.orders import tasks
from shop.orders.models import Order
from shop.orders.services import lifecycle
from shop.payments.adapters import calls
from shop.payments.adapters.gateways import get_gateway
from shop.payments.adapters.gateways.base import TransientGatewayError
from shop.payments.adapters.gateways.simulated import SimulatedGateway
from shop.payments.models import Payment
from shop.registry import bus
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)  # events are relayed on commit, as in production

OrderFor = Callable[..., tuple[Order, APIClient]]
WEBHOOK = "/api/v1/payments/webhooks/simulated/"
ORDERS_HEAR_PAYMENTS = "shop.orders.handlers.order_paid"


@pytest.fixture
def lost_payment_succeeded(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every ``PaymentSucceeded`` delivery to orders is lost: acknowledged, its handler never run."""
    real = bus.subscription

    def losing(name: str) -> bus.Subscription:
        sub = real(name)
        return dataclasses.replace(sub, func=lambda event: None) if name == ORDERS_HEAR_PAYMENTS else sub

    monkeypatch.setattr(bus, "subscription", losing)
    yield


def post_webhook(raw: bytes, headers: dict[str, str]) -> None:
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    response = APIClient().post(WEBHOOK, data=raw, content_type="application/json", **meta)
    assert response.status_code in (200, 202), response.content


def overdue(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(payment_due_by=timezone.now() - timedelta(seconds=1))


@pytest.mark.parametrize("token", ["tok_delayed_success", "tok_requires_action"])
def test_a_lost_payment_success_then_the_expiry_ends_with_the_order_paid(
    order_for: OrderFor, lost_payment_succeeded: None, token: str
) -> None:
    order, client = order_for()
    pay(client, order, token)
    payment = Payment.objects.get(order_id=order.pk)
    simulated = get_gateway("simulated")
    assert isinstance(simulated, SimulatedGateway)
    if token == "tok_requires_action":  # the customer approves on the bank's page: its webhook settles it
        post_webhook(*simulated.authenticate(payment.gateway_reference, approve=True))
    else:  # the provider clears it later and sends its webhook
        post_webhook(*simulated.settle(payment.gateway_reference, succeed=True))
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("succeeded", "pending_payment")  # orders never heard of it
    overdue(order)

    assert tasks.cancel_unpaid_orders.apply().get(disable_sync_subtasks=False) == 0

    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status, payment.refunded_amount) == ("paid", "succeeded", 0)
    assert order.paid_at is not None
    assert not Order.objects.filter(pk=order.pk, status="cancelled").exists()


def test_the_expiry_leaves_an_order_alone_while_payments_cannot_answer(
    order_for: OrderFor, monkeypatch: pytest.MonkeyPatch
) -> None:
    from shop.kernel import ContextUnavailable
    from shop.payments.services import PaymentsService

    order, _ = order_for()
    overdue(order)

    def unavailable(self: Any, **kwargs: Any) -> Any:
        raise ContextUnavailable("payments", "timeout")

    monkeypatch.setattr(PaymentsService, "payment_for_order", unavailable)
    assert lifecycle.cancel_unpaid() == 0
    order.refresh_from_db()
    assert order.status == "pending_payment"  # the next run asks again

    monkeypatch.undo()
    assert lifecycle.cancel_unpaid() == 1
    order.refresh_from_db()
    assert order.status == "cancelled" and order.paid_at is None


def paid(order_for: OrderFor) -> Order:
    order, client = order_for()
    assert pay(client, order, "tok_success").status_code == 200
    order.refresh_from_db()
    assert order.status == "paid" and order.paid_at is not None
    return order


@pytest.fixture
def refunds_down(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    """The gateway refuses refunds with a transient error until the returned function is called."""

    def down(self: SimulatedGateway, **kwargs: Any) -> Any:
        raise TransientGatewayError("connection reset")

    monkeypatch.setattr(SimulatedGateway, "refund", down)

    def back() -> None:
        monkeypatch.undo()
        calls.reset_breakers()  # as its reset timeout would: the gateway's breaker closes again

    return back


def make_due(order: Order) -> None:
    Order.objects.filter(pk=order.pk).update(refund_next_attempt_at=timezone.now() - timedelta(seconds=1))


def test_a_cancelled_paid_order_whose_refund_fails_is_refunded_by_the_retries(
    order_for: OrderFor, refunds_down: Callable[[], None], settings: Any
) -> None:
    settings.SHOP_GATEWAY_BACKOFF_S = 0.001
    order = paid(order_for)

    lifecycle.cancel_paid(order_id=order.pk, actor=lifecycle.Actor(kind="staff"))

    order.refresh_from_db()
    payment = Payment.objects.get(order_id=order.pk)
    assert (order.status, payment.status) == ("cancelled", "succeeded")  # the money is still with the shop ...
    assert order.refund_pending and order.refund_attempts == 1 and order.refund_dead_at is None  # ... and owed
    assert order.refund_next_attempt_at is not None and order.refund_next_attempt_at > timezone.now()
    assert "not answering" in order.refund_error
    assert tasks.retry_owed_refunds.apply().get(disable_sync_subtasks=False) == 0  # not due yet: nothing asked

    make_due(order)
    assert tasks.retry_owed_refunds.apply().get(disable_sync_subtasks=False) == 0  # due, still failing
    order.refresh_from_db()
    assert order.refund_attempts == 2

    refunds_down()  # the gateway answers again
    make_due(order)
    assert tasks.retry_owed_refunds.apply().get(disable_sync_subtasks=False) == 1

    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status, payment.refunded_amount) == ("refunded", "refunded", payment.amount_amount)
    assert not order.refund_pending
    assert f"Refund for order {order.number}" in [m.subject for m in mail.outbox]
    make_due(order)
    assert tasks.retry_owed_refunds.apply().get(disable_sync_subtasks=False) == 0  # done: never refunded twice
    assert payment.transactions.filter(kind="refund", outcome="succeeded").count() == 1


def test_an_owed_refund_out_of_attempts_is_dead_for_staff_who_retry_it(
    order_for: OrderFor, refunds_down: Callable[[], None], settings: Any
) -> None:
    settings.SHOP_GATEWAY_BACKOFF_S = 0.001
    settings.SHOP_REFUND_MAX_ATTEMPTS = 2
    order = paid(order_for)
    lifecycle.cancel_paid(order_id=order.pk, actor=lifecycle.Actor(kind="staff"))
    make_due(order)
    lifecycle.retry_owed_refunds()

    order.refresh_from_db()
    assert order.refund_dead_at is not None and order.refund_attempts == 2 and order.refund_next_attempt_at is None
    assert Order.objects.filter(lifecycle.owed_refunds(), pk=order.pk).exists()  # staff's "refund owed" list
    make_due(order)
    assert lifecycle.retry_owed_refunds() == 0  # dead: the sweep leaves it to staff

    refunds_down()
    assert lifecycle.retry_refund_now(order_id=order.pk) == "done"
    order.refresh_from_db()
    assert order.status == "refunded" and not Order.objects.filter(lifecycle.owed_refunds(), pk=order.pk).exists()


def test_paid_at_is_when_the_order_was_paid_and_marks_cancelled_after_payment(order_for: OrderFor) -> None:
    unpaid, _ = order_for()
    lifecycle.cancel(order_id=unpaid.pk, actor=lifecycle.Actor(kind="customer"))
    unpaid.refresh_from_db()
    assert unpaid.paid_at is None
    with pytest.raises(Exception, match="cannot become refunded"):
        lifecycle.mark_refunded(order_id=unpaid.pk)  # never paid: nothing to refund

    order = paid(order_for)
    history_paid_at = order.history.get(to_status="paid").at
    assert abs((order.paid_at - history_paid_at).total_seconds()) < 1
