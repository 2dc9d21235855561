"""What Stripe sends back holds secrets: the intent's client secret, and the return URL orders gave it
(the order's signed status link). The payments admin shows the ledger and webhook bodies with both
redacted."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from shop.kernel.redaction import REDACTED
from shop.orders.models import Order
from shop.payments.models import Payment, WebhookEvent
from shop.users.models import User
from tests.payments.conftest import pay
from tests.payments.gateways import stripe_fake
from tests.payments.gateways.conftest import StripeHarness

pytestmark = pytest.mark.django_db(transaction=True)


def test_ledger_and_webhook_bodies_show_stripe_secrets_redacted(
    order_for: Callable[..., tuple[Order, APIClient]], stripe_harness: StripeHarness, settings: Any
) -> None:
    settings.SHOP_PAYMENT_GATEWAY = "stripe"
    order, client = order_for()
    assert pay(client, order, stripe_fake.REQUIRES_ACTION).status_code == 200
    payment = Payment.objects.get(order_id=order.pk)
    intent = stripe_harness.fake.intents[payment.gateway_reference]
    return_url = intent["next_action"]["redirect_to_url"]["return_url"]
    status_token = re.search(r"/orders/status/([^/]+)/", return_url)
    assert status_token, return_url  # orders handed Stripe its status page
    secrets = [intent["client_secret"].split("_secret_")[1], status_token.group(1)]
    body = json.dumps(
        {
            "id": "evt_with_intent",
            "object": "event",
            "created": int(time.time()),
            "type": "payment_intent.requires_action",
            "data": {"object": intent},
        }
    ).encode()
    answer = APIClient().post(
        "/api/v1/payments/webhooks/stripe/",
        data=body,
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_harness.sign(body)["Stripe-Signature"],
    )
    assert answer.status_code == 200, answer.content
    staff = Client()
    staff.force_login(User.objects.create_superuser("staff@example.com", "staff-pass-123456"))

    for path in (
        f"/admin/payments/payment/{payment.pk}/change/",
        f"/admin/payments/webhookevent/{WebhookEvent.objects.get().pk}/change/",
    ):
        html = staff.get(path).content.decode()
        assert REDACTED in html, path
        for secret in secrets:
            assert secret not in html, f"{path} shows {secret}"
