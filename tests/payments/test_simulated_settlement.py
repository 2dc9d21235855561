"""The simulated provider clears a ``tok_delayed_success`` payment by itself after
``SHOP_SIMULATED_SETTLE_AFTER_S`` (the periodic job ``settle-simulated-payments``), through the
same webhook path a real provider's webhook takes; nothing else is touched."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from shop.orders.models import Order
from shop.payments import tasks
from shop.payments.models import Payment, WebhookEvent
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)  # events are relayed on commit, as in production

OrderFor = Callable[..., tuple[Order, APIClient]]


def started(order_for: OrderFor, token: str, *, age_s: float) -> tuple[Order, Payment]:
    order, client = order_for()
    pay(client, order, token)
    payment = Payment.objects.get(order_id=order.pk)
    Payment.objects.filter(pk=payment.pk).update(updated_at=timezone.now() - timedelta(seconds=age_s))
    return order, payment


def test_a_delayed_payment_settles_once_the_provider_cleared_it(order_for: OrderFor, settings: Any) -> None:
    settings.SHOP_SIMULATED_SETTLE_AFTER_S = 30
    due_order, due = started(order_for, "tok_delayed_success", age_s=31)
    young_order, young = started(order_for, "tok_delayed_success", age_s=5)
    waiting_order, waiting = started(order_for, "tok_requires_action", age_s=3600)  # the customer must act

    assert tasks.settle_simulated_payments() == 1
    assert tasks.settle_simulated_payments() == 0  # settled once

    for row in (due, young, waiting, due_order, young_order, waiting_order):
        row.refresh_from_db()
    assert (due.status, due_order.status) == ("succeeded", "paid")
    assert (young.status, young_order.status) == ("pending", "pending_payment")
    assert (waiting.status, waiting_order.status) == ("requires_action", "pending_payment")
    webhook = WebhookEvent.objects.get()  # it came in as the provider's signed webhook
    assert (webhook.reference, webhook.kind) == (due.gateway_reference, "payment.succeeded")
    assert webhook.processed_at is not None


def test_a_payment_the_simulator_no_longer_knows_is_left_to_reconciliation(order_for: OrderFor) -> None:
    _, payment = started(order_for, "tok_delayed_success", age_s=3600)
    Payment.objects.filter(pk=payment.pk).update(gateway_reference="sim_pay_lost")  # e.g. the cache was emptied

    assert tasks.settle_simulated_payments() == 0
    payment.refresh_from_db()
    assert payment.status == "pending" and not WebhookEvent.objects.exists()
