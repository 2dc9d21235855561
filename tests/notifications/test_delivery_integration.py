"""Emails end to end on real components: the API publishes an event → outbox → RabbitMQ → a real
Celery worker runs the notifications handler → a ``Notification`` row → the send task → a real SMTP
server on loopback. Only what a customer or staff could see is asserted: the messages that arrive,
the rows' status, and the admin.
"""

from __future__ import annotations

import itertools
import re
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from rest_framework.test import APIClient

from shop import registry
from shop.notifications import api as notifications_api
from shop.notifications.models import Notification
from shop.notifications.services import EMAILS
from shop.orders.services import status_page
from shop.registry import bus
from shop.registry.bus.tasks import deliver_event
from shop.registry.models import InboxEntry
from shop.registry.router import alias_for_context
from shop.users.api import UserRegistered
from shop.users.models import User
from tests.helpers import outbox
from tests.notifications.conftest import SEND_TASK
from tests.notifications.smtp import SmtpSink
from tests.orders.conftest import client_of, fill_cart, place
from tests.registry.conftest import USERS, Boom, LiveBus, wait_for

pytestmark = [pytest.mark.broker, pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

DEADLINE_S = 15.0
WELCOME = "shop.notifications.handlers.welcome"
NOTIFICATIONS = alias_for_context("notifications")
SHOP_NAME = "shop"
_user_ids = itertools.count(900_001)


def _registered(email: str) -> UserRegistered:
    return UserRegistered(user_id=next(_user_ids), email=email, full_name="Grace Hopper")


def _publish_committed(event: UserRegistered) -> None:
    with registry.atomic("users"):
        registry.publish(event)


def notification(event_id: uuid.UUID, kind: str = "welcome") -> Notification | None:
    return Notification.objects.using(NOTIFICATIONS).filter(event_id=event_id, kind=kind).first()


def _status(event_id: uuid.UUID, status: str) -> Callable[[], bool]:
    def check() -> bool:
        row = notification(event_id)
        return row is not None and row.status == status

    return check


# --- 1. registering and ordering ----------------------------------------------------------------
def test_registering_and_ordering_email_the_customer(
    live: LiveBus, mail: SmtpSink, stocked: Callable[..., list[str]]
) -> None:
    email = "ada@example.com"
    response = APIClient().post(
        "/api/v1/auth/register/",
        {"email": email, "password": "a-long-enough-pass-42", "full_name": "Ada Lovelace"},
        format="json",
    )
    assert response.status_code == 201, response.content

    (welcome,) = mail.wait_delivered(email, timeout=DEADLINE_S)
    assert welcome.rcpt_tos == [email]
    assert welcome.message["To"] == email
    assert welcome.subject == EMAILS[notifications_api.Kind("welcome")].subject.format(shop_name=SHOP_NAME)
    for part in (welcome.text, welcome.html):
        assert "Ada Lovelace" in part
        assert email in part

    user = User.objects.get(email=email)
    sku = stocked(1, stock=50, price="12.50")[0]
    fill_cart(user, [sku], quantity=3)
    response = place(client_of(user))
    assert response.status_code == 201, response.content
    order = response.json()
    number = order["number"]
    total = f"€{order['total']['amount']}"  # EUR: the email shows the symbol

    confirmation = next(
        m for m in mail.wait_delivered(email, count=2, timeout=DEADLINE_S) if m.message_id != welcome.message_id
    )
    assert confirmation.rcpt_tos == [email]
    assert confirmation.subject == EMAILS[notifications_api.Kind("order_confirmation")].subject.format(number=number)
    text, html = confirmation.text, confirmation.html
    assert number in text and number in html
    assert f"- 3 x Wool Socks (Size 0) [{sku}] at €12.50 = €37.50" in text
    assert f"Total:    {total}" in text
    assert f"<td>Wool Socks (Size 0)<br><small>{sku}</small></td>" in html
    assert '<td align="right">3</td><td align="right">€12.50</td><td align="right">€37.50</td>' in html
    assert f"<strong>{total}</strong>" in html
    for part in (text, html):
        assert "Ada Lovelace, 12 Analytical Row, W1 2AB London, GB" in part
        # "Your order": the signed status page on the public URL, naming this order (no login needed).
        link = re.search(r"(https?://[^\s\"<]+)/orders/status/([^/\s\"<]+)/", part)
        assert link is not None, part
        assert link.group(1) == settings.SHOP_PUBLIC_URL
        assert status_page.order_id_from(link.group(2)) == order["id"]

    rows = Notification.objects.using(NOTIFICATIONS).filter(user_id=user.pk).order_by("id")
    # The worker marks a row sent just after the server's "250".
    assert wait_for(lambda: all(r.status == notifications_api.SENT for r in rows.all()), DEADLINE_S)
    assert [(r.kind, r.status, r.attempts, r.recipient) for r in rows] == [
        ("welcome", notifications_api.SENT, 1, email),
        ("order_confirmation", notifications_api.SENT, 1, email),
    ]
    assert {welcome.message_id, confirmation.message_id} == {r.message_id for r in rows}
    assert len(mail.received(email)) == 2  # nothing else, no copies


# --- 2. one event delivered twice --------------------------------------------------------------
def test_an_event_delivered_twice_sends_one_email(live: LiveBus, mail: SmtpSink) -> None:
    event, sentinel = _registered("twice@example.com"), _registered("sentinel@example.com")

    _publish_committed(event)  # the on-commit relay: delivery 1
    mail.wait_delivered("twice@example.com", timeout=DEADLINE_S)

    # The relay crashed after sending but before marking the row sent: the sweep relays it again.
    outbox("users").filter(id=event.event_id).update(sent_at=None)
    assert bus.relay(alias=USERS, ids=[event.event_id]) == 1  # delivery 2: the bus inbox absorbs it
    assert wait_for(lambda: live.results_for(WELCOME).count("duplicate") == 1, DEADLINE_S), live.results

    # Even past the inbox (its row gone, the handler runs again), the event makes no second email.
    InboxEntry.objects.using(NOTIFICATIONS).filter(event_id=event.event_id, handler=WELCOME).delete()
    deliver_event.apply_async(
        kwargs={"handler": WELCOME, "topic": UserRegistered.topic(), "payload": bus.encode(event)},
        queue=bus.delivery_queue("notifications"),
    )
    # One delivery queue, one consumer, FIFO: once the sentinel's email is out, so is anything the
    # earlier deliveries sent.
    _publish_committed(sentinel)
    mail.wait_delivered("sentinel@example.com", timeout=DEADLINE_S)

    assert live.results_for(WELCOME) == ["handled", "duplicate", "handled", "handled"]
    # The event's and the sentinel's sends, and no other (the worker records a task once it returned).
    assert wait_for(lambda: len(live.results_for(SEND_TASK)) >= 2, DEADLINE_S), live.results
    assert live.results_for(SEND_TASK) == ["sent", "sent"]
    assert len(mail.received("twice@example.com")) == 1
    assert Notification.objects.using(NOTIFICATIONS).filter(event_id=event.event_id).count() == 1
    row = notification(event.event_id)
    assert row is not None and (row.status, row.attempts) == (notifications_api.SENT, 1)


# --- 4. SMTP down, then back ---------------------------------------------------------------------
def test_smtp_down_is_retried_until_it_is_back(live: LiveBus, mail: SmtpSink, settings: Any) -> None:
    settings.SHOP_EMAIL_MAX_ATTEMPTS = 20
    settings.SHOP_EMAIL_RETRY_BACKOFF_S = 0.1
    event = _registered("patient@example.com")
    mail.stop()

    _publish_committed(event)

    seen: list[tuple[int, str, bool]] = []

    def retrying() -> bool:
        row = notification(event.event_id)
        if row is not None and (not seen or seen[-1][0] != row.attempts):
            seen.append((row.attempts, row.status, bool(row.last_error)))
        return len(seen) >= 3

    assert wait_for(retrying, DEADLINE_S), seen
    # Every failed attempt is recorded, the row stays queued, the error is kept for staff.
    assert [attempts for attempts, _, _ in seen] == sorted({a for a, _, _ in seen})
    assert all(status == notifications_api.QUEUED for _, status, _ in seen[1:]), seen
    row = notification(event.event_id)
    assert row is not None and row.status == notifications_api.QUEUED
    assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error, row.last_error
    failed_attempts = row.attempts
    assert failed_attempts >= 2

    mail.start()  # the same port

    (message,) = mail.wait_delivered("patient@example.com", timeout=DEADLINE_S)
    assert wait_for(_status(event.event_id, notifications_api.SENT), DEADLINE_S)
    row = notification(event.event_id)
    assert row is not None
    assert row.last_error == "" and row.sent_at is not None and row.attempts > failed_attempts
    assert message.message_id == row.message_id
    assert len(mail.received("patient@example.com")) == 1


# --- 5. out of attempts: failed, visible in the admin, resent from there ---------------------
def test_exhausted_retries_fail_and_staff_resend_from_the_admin(
    live: LiveBus, mail: SmtpSink, settings: Any, staff_client: Client
) -> None:
    settings.SHOP_EMAIL_MAX_ATTEMPTS = 3
    settings.SHOP_EMAIL_RETRY_BACKOFF_S = 0.05
    event = _registered("unlucky@example.com")
    mail.stop()

    _publish_committed(event)

    assert wait_for(_status(event.event_id, notifications_api.FAILED), DEADLINE_S), notification(event.event_id)
    row = notification(event.event_id)
    assert row is not None
    assert row.attempts == 3 and row.sent_at is None
    assert "Connection refused" in row.last_error or "ConnectionRefused" in row.last_error, row.last_error
    # The first two attempts asked for a retry, the last gave up (recorded once the task returned).
    assert wait_for(lambda: len(live.results_for(SEND_TASK)) >= 3, DEADLINE_S), live.results
    outcomes = live.results_for(SEND_TASK)
    assert len(outcomes) == 3 and outcomes[-1] == "failed", outcomes

    changelist = "/admin/notifications/notification/"
    failed_page = staff_client.get(changelist, {"status__exact": "failed"})
    assert failed_page.status_code == 200
    assert "unlucky@example.com" in failed_page.content.decode()
    assert f'value="{row.pk}"' in failed_page.content.decode()  # its action checkbox
    sent_page = staff_client.get(changelist, {"status__exact": "sent"})
    assert "unlucky@example.com" not in sent_page.content.decode()
    detail = staff_client.get(f"{changelist}{row.pk}/change/")
    assert detail.status_code == 200
    assert row.last_error in detail.content.decode()

    mail.start()
    response = staff_client.post(changelist, {"action": "resend", "_selected_action": [str(row.pk)]}, follow=True)
    assert response.status_code == 200
    assert "Queued 1 notification(s) for sending again." in response.content.decode()

    (message,) = mail.wait_delivered("unlucky@example.com", timeout=DEADLINE_S)
    assert wait_for(_status(event.event_id, notifications_api.SENT), DEADLINE_S)
    row.refresh_from_db()
    assert (row.attempts, row.last_error) == (4, "")
    assert message.message_id == row.message_id
    assert len(mail.received("unlucky@example.com")) == 1


# --- 6. a rolled-back transaction sends nothing -----------------------------------------------
def test_an_event_rolled_back_sends_nothing(live: LiveBus, mail: SmtpSink) -> None:
    doomed, sentinel = _registered("doomed@example.com"), _registered("after@example.com")

    with pytest.raises(Boom), registry.atomic("users"):
        registry.publish(doomed)
        raise Boom

    # One delivery queue, one consumer, FIFO: once a later committed event's email is out, the
    # rolled-back one would be out too, had it been sent at all.
    _publish_committed(sentinel)
    mail.wait_delivered("after@example.com", timeout=DEADLINE_S)

    assert mail.received("doomed@example.com") == []
    assert notification(doomed.event_id) is None
    assert not outbox("users").filter(id=doomed.event_id).exists()
    assert live.results_for(WELCOME) == ["handled"]
