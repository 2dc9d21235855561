"""No secret in any admin page or log line: a live password-reset link and an order's status link are
bearer credentials, for their customer only. The emails carry them; the notification log, its
previews, the outbox and dead letters, the orders and payments pages, and every line the configured
log handlers write (Celery's task lines with their arguments, runserver's request lines, the access
log) show ``[redacted]`` instead."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.test import Client
from rest_framework.test import APIClient
from structlog.stdlib import ProcessorFormatter

from shop.kernel.redaction import REDACTED, redact
from shop.notifications import api as notifications_api
from shop.notifications.models import Notification
from shop.orders.models import Order
from shop.registry.models import DeadLetter, OutboxEvent
from shop.users.models import User
from shop.web.logging import RedactingFormatter
from tests.helpers import outbox
from tests.orders.conftest import client_of, fill_cart, place
from tests.orders.conftest import stocked as stocked  # noqa: PLC0414  (a fixture)
from tests.payments.conftest import pay

LINK = re.compile(r"https?://[^\s\"'<>]+")


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything the configured handlers write (the server's log), captured as written."""
    loggers = [logging.getLogger(), logging.getLogger("django.server")]
    # settings.LOGGING's handlers (pytest adds its own capturing ones beside them).
    handlers = {h for lg in loggers for h in lg.handlers if isinstance(h.formatter, ProcessorFormatter)}
    assert len(handlers) == 1 and all(isinstance(h.formatter, RedactingFormatter) for h in handlers)
    assert all(isinstance(h, logging.StreamHandler) for h in handlers)
    buffer = io.StringIO()
    previous = {h: h.setStream(buffer) for h in handlers}
    try:
        yield buffer
    finally:
        for handler, stream in previous.items():
            handler.setStream(stream)


def secrets_in(message: Any) -> list[str]:
    """The credentials an email carries: reset tokens and order-status tokens, as found in its links."""
    found = []
    for url in LINK.findall(message.body):
        parts = urlsplit(url)
        if "token" in parse_qs(parts.query):
            found.append(parse_qs(parts.query)["token"][0])
        if parts.path.startswith("/orders/status/"):
            found.append(parts.path.split("/")[3])
    return found


@pytest.mark.django_db(transaction=True)  # events are relayed on commit, as in production
def test_no_secret_in_admin_pages_or_log_lines(
    stocked: Callable[..., list[str]], settings: Any, log_lines: io.StringIO
) -> None:
    settings.SHOP_PAYMENT_GATEWAY = "simulated"
    email = "ada@example.com"
    assert (
        APIClient().post("/api/v1/auth/register/", {"email": email, "password": "a-long-pass-42x"}).status_code == 201
    )
    assert APIClient().post("/api/v1/auth/password-reset/", {"email": email}).status_code == 202
    customer = User.objects.get(email=email)
    fill_cart(customer, stocked(1))
    order = Order.objects.get(pk=place(client_of(customer)).json()["id"])
    pay(client_of(customer), order, "tok_requires_action")
    secrets = [secret for message in mail.outbox for secret in secrets_in(message)]
    reset_link = next(url for m in mail.outbox for url in LINK.findall(m.body) if "reset-password" in url)
    assert len(secrets) >= 2 and len({len(s) for s in secrets}) >= 2  # a reset token and a status token
    # A reset event that could not be delivered, parked with its payload and the error it raised.
    reset_event = outbox("users").get(topic="users.PasswordResetRequested")
    DeadLetter.objects.create(
        handler="shop.notifications.handlers.password_reset",
        topic=reset_event.topic,
        event_id=reset_event.id,
        payload=reset_event.payload,
        error=f"SMTPDataError: could not send {reset_link}",
        attempts=6,
    )
    # The customer opens both links (the access log and runserver's request line see the URLs).
    browser = Client(HTTP_ACCEPT="text/html")
    status_link = next(url for m in mail.outbox for url in LINK.findall(m.body) if "/orders/status/" in url)
    assert browser.get(urlsplit(status_link).path).status_code == 200
    reset_path = f"{urlsplit(reset_link).path}?{urlsplit(reset_link).query}"
    assert browser.get(reset_path).status_code == 200
    logging.getLogger("django.server").info('"GET %s HTTP/1.1" 200 1873', reset_path)

    staff = User.objects.create_superuser("staff@example.com", "staff-pass-123456")
    admin = Client()
    admin.force_login(staff)
    pages = [
        "/admin/notifications/notification/",
        *(
            f"/admin/notifications/notification/{pk}/change/"
            for pk in Notification.objects.values_list("pk", flat=True)
        ),
        "/admin/notifications/notification/preview/",
        *(f"/admin/notifications/notification/preview/{kind}/" for kind in notifications_api.KINDS),
        "/admin/registry/outboxevent/",
        *(f"/admin/registry/outboxevent/{pk}/change/" for pk in OutboxEvent.objects.values_list("pk", flat=True)),
        "/admin/registry/deadletter/",
        *(f"/admin/registry/deadletter/{pk}/change/" for pk in DeadLetter.objects.values_list("pk", flat=True)),
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
        "/admin/payments/payment/",
        *(f"/admin/payments/payment/{pk}/change/" for pk in order_payments(order)),
        "/admin/payments/webhookevent/",
    ]
    reset_notification = Notification.objects.get(kind="password_reset")
    for path in pages:
        response = admin.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        for secret in secrets:
            assert secret not in html, f"{path} shows {secret}"
    shown = admin.get(f"/admin/notifications/notification/{reset_notification.pk}/change/").content.decode()
    assert REDACTED in shown  # the link is there, redacted (not simply missing)
    if OutboxEvent.objects.filter(pk=reset_event.pk).exists():  # the admin lists the default database's outbox
        assert REDACTED in admin.get(f"/admin/registry/outboxevent/{reset_event.pk}/change/").content.decode()

    written = log_lines.getvalue()
    assert "shop.registry.deliver_event" in written  # the task lines at risk were written
    assert "django.server" not in written  # runserver's request lines are not logged: the access log is the one line
    for secret in secrets:
        assert secret not in written, f"a log line shows {secret}"
    assert REDACTED in written


def order_payments(order: Order) -> list[int]:
    from shop.payments.models import Payment

    return list(Payment.objects.filter(order_id=order.pk).values_list("pk", flat=True))


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("http://x/account/reset-password/?uid=MQ&token=dj35gf-d24e00cda44eb17f88885a17ee8ec97d", "uid=MQ&token="),
        ("http://x/orders/status/NDI:1xZcow:1odtrSwXqRI7FS9zssxSKzhSNbNXdkUO4hHkf7XbOTg/", "/orders/status/"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJ1c2VyX2lkIjoxfQ.c2lnbmF0dXJl", "Authorization: Bearer "),
        ('{"client_secret": "pi_3Nx_secret_AbC123"}', '"client_secret": "pi_3Nx_secret_'),
    ],
)
def test_redact_hides_each_kind_of_secret(text: str, kept: str) -> None:
    redacted = redact(text)
    assert REDACTED in redacted and kept in redacted
    assert redacted.count(REDACTED) == 1


@pytest.mark.parametrize(
    "text",
    [
        "order SO-7K3Q-9XW2 paid at 12:30:05",
        "event 6bf58e7d-7274-4d61-9ef7-e129899ca29b",
        "Idempotency-Key: order-12-0123456789abcdef0123456789abcdef",
        "sha256 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
    ],
)
def test_redact_leaves_ids_and_times_alone(text: str) -> None:
    assert redact(text) == text
