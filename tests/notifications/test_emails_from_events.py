"""The customer's inbox across the journey, with events relayed on commit as in production (the
embedded default: eager tasks, Django's test mailbox). The real SMTP server and the real worker are
in ``test_delivery_integration``; here every kind is shown to reach the right person, once."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from rest_framework.test import APIClient

from shop import registry
from shop.notifications.models import Notification
from shop.orders.models import Order
from shop.orders.services import lifecycle
from shop.users.api import UserRegistered
from tests.helpers import run_retries, scheduled_retries
from tests.orders.conftest import ADDRESS, client_of, fill_cart, place
from tests.orders.conftest import stocked as stocked  # noqa: PLC0414  (a fixture)
from tests.payments.conftest import pay

pytestmark = pytest.mark.django_db(transaction=True)

STAFF = lifecycle.Actor(kind="staff", id=1)


def inbox(to: str) -> list[Any]:
    return [m for m in mail.outbox if m.to == [to]]


def subjects(to: str) -> list[str]:
    return [m.subject for m in inbox(to)]


@pytest.fixture(autouse=True)
def _simulated_payments(settings: Any) -> None:
    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    settings.SHOP_GATEWAY_BACKOFF_S = 0.001


def register(email: str) -> APIClient:
    client = APIClient()
    response = client.post(
        "/api/v1/auth/register/",
        {"email": email, "password": "a-long-pass-phrase-42", "full_name": "Ada"},
        format="json",
    )
    assert response.status_code == 201, response.content
    from shop.users.models import User

    return client_of(User.objects.get(email=email))


def test_the_journey_fills_the_customers_inbox(stocked: Callable[..., list[str]]) -> None:
    client = register("ada@example.com")
    assert subjects("ada@example.com") == ["Welcome to shop"]
    welcome = inbox("ada@example.com")[0]
    assert "ada@example.com" in welcome.body and welcome.alternatives[0][1] == "text/html"

    (sku,) = stocked(1)
    from shop.users.models import User

    fill_cart(User.objects.get(email="ada@example.com"), [sku], quantity=2)
    placed = place(client).json()
    order = Order.objects.get(pk=placed["id"])
    confirmation = inbox("ada@example.com")[-1]
    assert confirmation.subject == f"Your order {order.number}"
    assert sku in confirmation.body and "2 x" in confirmation.body
    assert "€29.88" in confirmation.body and order.number in confirmation.alternatives[0][0]

    pay(client, order, "tok_decline")
    assert subjects("ada@example.com")[-1] == f"Your payment for order {order.number} did not go through"
    assert "the card was declined" in inbox("ada@example.com")[-1].body
    pay(client, order, "tok_success")
    assert subjects("ada@example.com")[-1] == f"Payment received for order {order.number}"

    lifecycle.fulfil(order_id=order.pk, carrier="DHL", tracking_number="JD0146", actor=STAFF)
    shipped = inbox("ada@example.com")[-1]
    assert shipped.subject == f"Order {order.number} has shipped" and "JD0146" in shipped.body

    lifecycle.refund(order_id=order.pk, actor=STAFF)
    assert subjects("ada@example.com")[-1] == f"Refund for order {order.number}"
    assert len(mail.outbox) == 6 and Notification.objects.filter(status="sent").count() == 6
    assert all(m.extra_headers["Message-ID"].startswith("<notification-") for m in mail.outbox)


def test_an_unpaid_cancelled_order_is_announced(stocked: Callable[..., list[str]]) -> None:
    client = register("bob@example.com")
    (sku,) = stocked(1)
    from shop.users.models import User

    fill_cart(User.objects.get(email="bob@example.com"), [sku])
    order_id = place(client, body={"shipping_address": ADDRESS}).json()["id"]
    client.post(f"/api/v1/orders/{order_id}/cancel/")
    cancelled = inbox("bob@example.com")[-1]
    assert "was cancelled" in cancelled.subject and "you asked us to" in cancelled.body


def test_the_same_event_twice_sends_one_email() -> None:
    event = UserRegistered(user_id=99, email="twice@example.com", full_name="Twice")
    from shop.notifications import handlers

    handlers.welcome(event)
    handlers.welcome(event)  # a redelivery that got past the inbox
    assert subjects("twice@example.com") == ["Welcome to shop"]
    assert Notification.objects.filter(event_id=event.event_id).count() == 1


def test_a_rolled_back_event_sends_nothing() -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom), registry.atomic("users"):
        registry.publish(UserRegistered(user_id=98, email="never@example.com", full_name="Never"))
        raise Boom
    registry.publish(
        UserRegistered(user_id=97, email="later@example.com", full_name="Later")
    )  # autocommit: relayed now
    assert subjects("later@example.com") == ["Welcome to shop"]
    assert inbox("never@example.com") == []


def test_smtp_errors_are_retried_then_failed_then_resent(settings: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The task's retry bound in the embedded default (the real SMTP server: test_delivery_integration)."""
    from django.core.mail.backends.locmem import EmailBackend

    settings.SHOP_EMAIL_MAX_ATTEMPTS = 3
    calls: list[int] = []
    real_send = EmailBackend.send_messages

    def down(self: EmailBackend, messages: Any) -> int:
        calls.append(1)
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr(EmailBackend, "send_messages", down)
    registry.publish(UserRegistered(user_id=96, email="flaky@example.com", full_name="Flaky"))
    row = Notification.objects.get(recipient="flaky@example.com")
    assert (row.status, row.attempts, len(calls)) == ("queued", 1, 1)  # recorded; the retry sweep sends it again
    assert "SMTP down" in row.last_error

    assert run_retries(rounds=2) == 2

    row.refresh_from_db()
    assert (row.status, row.attempts, len(calls)) == ("failed", 3, 3)
    assert not scheduled_retries("notifications").exists()
    assert "SMTP down" in row.last_error

    monkeypatch.setattr(EmailBackend, "send_messages", real_send)
    from shop.notifications import services

    services.resend(notification_id=row.pk)
    row.refresh_from_db()
    assert (row.status, row.attempts) == ("sent", 4)
    assert subjects("flaky@example.com") == ["Welcome to shop"]
    assert uuid.UUID(str(row.event_id))
