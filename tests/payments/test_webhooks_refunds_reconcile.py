"""Webhooks (verified, stored once, order-safe), refunds (full and partial, the order follows) and
the reconciliation of stuck payments."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.core import mail
from django.utils import timezone
from rest_framework.test import APIClient

from shop.kernel import Money
from shop.orders.models import Order
from shop.orders.services import lifecycle
from shop.payments import api, tasks
from shop.payments.adapters.gateways import get_gateway
from shop.payments.models import Payment, WebhookEvent
from shop.payments.services import charges
from tests.helpers import assert_problem
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)  # events are relayed on commit, as in production

OrderFor = Callable[..., tuple[Order, APIClient]]
WEBHOOK = "/api/v1/payments/webhooks/simulated/"


def post_webhook(raw: bytes, headers: dict[str, str]) -> Any:
    meta = {f"HTTP_{k.upper().replace('-', '_')}": v for k, v in headers.items()}
    return APIClient().post(WEBHOOK, data=raw, content_type="application/json", **meta)


def simulator() -> Any:
    return get_gateway("simulated")


def pending_payment(order_for: OrderFor) -> tuple[Order, Payment]:
    order, client = order_for()
    pay(client, order, "tok_delayed_success")
    return order, Payment.objects.get(order_id=order.pk)


def test_a_bad_signature_or_a_stale_timestamp_is_400_and_changes_nothing(order_for: OrderFor) -> None:
    order, payment = pending_payment(order_for)
    raw, headers = simulator().signed_webhook(kind="payment.succeeded", reference=payment.gateway_reference)
    tampered = raw.replace(b"payment.succeeded", b"payment.succeeded ")
    assert_problem(post_webhook(tampered, headers), 400, "invalid_webhook")
    forged = {k: v[:-4] + "beef" if "ignature" in k else v for k, v in headers.items()}
    assert_problem(post_webhook(raw, forged), 400, "invalid_webhook")
    stale_raw, stale_headers = simulator().signed_webhook(
        kind="payment.succeeded", reference=payment.gateway_reference, timestamp=int(time.time()) - 301
    )
    assert_problem(post_webhook(stale_raw, stale_headers), 400, "invalid_webhook")
    assert_problem(post_webhook(b"not json", headers), 400, "invalid_webhook")
    assert WebhookEvent.objects.count() == 0
    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, order.status) == ("pending", "pending_payment")


def test_the_same_event_twice_has_one_effect(order_for: OrderFor) -> None:
    order, payment = pending_payment(order_for)
    raw, headers = simulator().signed_webhook(kind="payment.succeeded", reference=payment.gateway_reference)
    first, second = post_webhook(raw, headers), post_webhook(raw, headers)
    assert (first.json()["duplicate"], second.json()["duplicate"]) == (False, True)
    assert WebhookEvent.objects.count() == 1
    order.refresh_from_db()
    assert order.status == "paid" and order.history.filter(to_status="paid").count() == 1


def test_refunded_before_succeeded_ends_refunded(order_for: OrderFor) -> None:
    _, payment = pending_payment(order_for)
    total_minor = payment.amount.minor
    refund_raw, refund_headers = simulator().signed_webhook(
        kind="payment.refunded", reference=payment.gateway_reference, amount_refunded_minor=total_minor, currency="EUR"
    )
    success_raw, success_headers = simulator().signed_webhook(
        kind="payment.succeeded", reference=payment.gateway_reference
    )
    assert post_webhook(refund_raw, refund_headers).status_code == 200
    assert post_webhook(success_raw, success_headers).status_code == 200
    payment.refresh_from_db()
    assert (payment.status, payment.refunded_amount) == ("refunded", payment.amount_amount)


def paid_order(order_for: OrderFor) -> tuple[Order, Payment]:
    order, client = order_for()
    assert pay(client, order, "tok_success").json()["status"] == "paid"
    return order, Payment.objects.get(order_id=order.pk)


def test_a_partial_then_full_refund_and_the_order_follows(order_for: OrderFor) -> None:
    order, payment = paid_order(order_for)
    part = charges.refund(
        payment_id=payment.pk, amount=Money(Decimal("5.00"), "EUR"), reason="scratch", idempotency_key="r1"
    )
    assert (part.status, part.refunded) == ("partially_refunded", Money(Decimal("5.00"), "EUR"))
    again = charges.refund(
        payment_id=payment.pk, amount=Money(Decimal("5.00"), "EUR"), reason="scratch", idempotency_key="r1"
    )
    assert again.refunded == part.refunded  # the same key refunds once
    order.refresh_from_db()
    assert order.status == "paid" and "partially refunded" in order.history.last().note  # type: ignore[union-attr]
    with pytest.raises(api.RefundTooLarge):
        charges.refund(payment_id=payment.pk, amount=payment.amount, reason="too much", idempotency_key="r2")
    rest = charges.refund(payment_id=payment.pk, amount=None, reason="return", idempotency_key="r3")
    assert (rest.status, rest.refunded) == ("refunded", payment.amount)
    order.refresh_from_db()
    assert order.status == "refunded"
    with pytest.raises(api.NotRefundable):
        charges.refund(payment_id=payment.pk, amount=None, reason="again", idempotency_key="r4")


def test_cancelling_a_paid_order_refunds_it(order_for: OrderFor) -> None:
    order, payment = paid_order(order_for)
    lifecycle.cancel_paid(order_id=order.pk, actor=lifecycle.Actor(kind="staff", id=1), note="customer called")
    order.refresh_from_db()
    payment.refresh_from_db()
    assert (order.status, payment.status) == ("refunded", "refunded")
    assert list(order.history.values_list("to_status", flat=True)) == [
        "pending_payment",
        "paid",
        "cancelled",
        "refunded",
    ]


def test_a_payment_for_an_expired_order_goes_straight_back(order_for: OrderFor) -> None:
    order, client = order_for()
    pay(client, order, "tok_delayed_success")
    Order.objects.filter(pk=order.pk).update(payment_due_by=timezone.now() - timedelta(seconds=1))
    lifecycle.cancel_unpaid()
    payment = Payment.objects.get(order_id=order.pk)
    raw, headers = simulator().settle(reference=payment.gateway_reference, succeed=True)
    post_webhook(raw, headers)
    payment.refresh_from_db()
    order.refresh_from_db()
    # The money went straight back: the order is refunded (it was cancelled, then paid late), the
    # customer is mailed, and the history says why.
    assert (order.status, payment.status) == ("refunded", "refunded")
    assert payment.refunded_amount == payment.amount_amount
    notes = list(order.history.values_list("note", flat=True))
    assert any("arrived after the order was cancelled: refunded automatically" in note for note in notes)
    assert f"Refund for order {order.number}" in [m.subject for m in mail.outbox]


def test_reconciliation_settles_stuck_payments(order_for: OrderFor, settings: Any) -> None:
    settings.SHOP_PAYMENT_RECONCILE_AFTER_S = 60
    delayed_order, delayed = pending_payment(order_for)
    stuck_order, client = order_for()
    pay(client, stuck_order, "tok_requires_action")
    stuck = Payment.objects.get(order_id=stuck_order.pk)
    simulator().settle(reference=delayed.gateway_reference, succeed=True)  # its webhook is lost on the way
    Payment.objects.filter(pk=delayed.pk).update(updated_at=timezone.now() - timedelta(seconds=61))
    Payment.objects.filter(pk=stuck.pk).update(updated_at=timezone.now() - timedelta(seconds=121))

    assert tasks.reconcile_stuck_payments.apply().get(disable_sync_subtasks=False) == 2

    delayed.refresh_from_db()
    stuck.refresh_from_db()
    assert delayed.status == "succeeded"
    assert (stuck.status, stuck.failure_code) == ("failed", "abandoned")
    delayed_order.refresh_from_db()
    assert delayed_order.status == "paid"


@pytest.mark.parametrize(
    ("minor", "currency", "why"),
    [
        (1788, "JPY", "refund in JPY, the payment is in EUR"),  # a signed JPY refund of a EUR payment
        (999_999, "EUR", "exceeds the"),  # more refunded than was ever captured
    ],
)
def test_a_signed_refund_that_contradicts_the_payment_is_refused_and_shown_to_staff(
    order_for: OrderFor, minor: int, currency: str, why: str, admin_client: Any
) -> None:
    order, payment = paid_order(order_for)
    raw, headers = simulator().signed_webhook(
        kind="payment.refunded", reference=payment.gateway_reference, amount_refunded_minor=minor, currency=currency
    )

    assert post_webhook(raw, headers).status_code in (200, 202)  # verified and stored: the provider stops resending

    payment.refresh_from_db()
    order.refresh_from_db()
    assert (payment.status, payment.refunded_amount, order.status) == ("succeeded", 0, "paid")  # nothing moved
    row = WebhookEvent.objects.get(reference=payment.gateway_reference, kind="payment.refunded")
    assert row.refused and row.result.startswith("refused:") and why in row.result
    assert payment.transactions.filter(kind="webhook", outcome="refused").count() == 1
    listed = admin_client.get("/admin/payments/webhookevent/", {"refused__exact": "1"}).content.decode()
    assert row.event_id in listed and why in listed


def test_a_partial_refund_mails_the_customer_what_came_back(order_for: OrderFor) -> None:
    order, _ = paid_order(order_for)
    mail.outbox.clear()

    lifecycle.refund(order_id=order.pk, actor=lifecycle.Actor(kind="staff"), amount=Money(Decimal("1.25"), "EUR"))
    lifecycle.refund(order_id=order.pk, actor=lifecycle.Actor(kind="staff"), amount=Money(Decimal("2.00"), "EUR"))

    partial = [m for m in mail.outbox if m.subject == f"Partial refund for order {order.number}"]
    assert len(partial) == 2
    assert "We refunded €1.25 of your payment" in partial[0].body and "(€1.25 refunded in all)" in partial[0].body
    assert "We refunded €2.00 of your payment" in partial[1].body and "(€3.25 refunded in all)" in partial[1].body
    assert not [m for m in mail.outbox if m.subject == f"Refund for order {order.number}"]  # not a full refund

    lifecycle.refund(order_id=order.pk, actor=lifecycle.Actor(kind="staff"))  # the rest: the full-refund email
    assert [m.subject for m in mail.outbox].count(f"Refund for order {order.number}") == 1
    assert len([m for m in mail.outbox if m.subject.startswith("Partial refund")]) == 2
