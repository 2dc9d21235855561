"""The ``NotificationsAPI`` contract, run against the local service and over HTTP: what staff tools
or another context see of a customer's notifications, and resending."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from django.core import mail

from shop.notifications import services
from shop.notifications.api import AlreadySending, Kind, Notification, NotificationNotFound, NotificationsAPI
from shop.notifications.models import Notification as NotificationRow
from shop.notifications.services import NotificationsService
from tests.contracts.kit import assert_implements


def _implementations_satisfy_the_protocol() -> None:
    """Never called: mypy checks this assignment, so a signature drifting from the Protocol fails CI."""
    impl: NotificationsAPI = NotificationsService()
    del impl


def test_implementations_have_the_protocols_signatures() -> None:
    assert_implements(NotificationsAPI, NotificationsService)


def welcome(user_id: int, email: str, **fields: Any) -> NotificationRow:
    rendered = services.render(Kind.WELCOME, {"full_name": "Ada", "email": email})
    return NotificationRow.objects.create(
        event_id=uuid.uuid4(),
        kind="welcome",
        user_id=user_id,
        recipient=email,
        subject=rendered.subject,
        body_text=rendered.text,
        body_html=rendered.html,
        **fields,
    )


def test_list_for_customer_is_theirs_newest_first_and_bounded(notifications_api: NotificationsAPI) -> None:
    older = welcome(7, "ada@example.com", status="sent")
    newer = welcome(7, "ada@example.com", status="failed", last_error="SMTP down", attempts=6)
    welcome(8, "bob@example.com")

    got = notifications_api.list_for_customer(user_id=7)

    assert [n.id for n in got] == [newer.pk, older.pk]
    assert all(type(n) is Notification for n in got)
    assert (got[0].status, got[0].attempts, got[0].last_error, got[0].kind) == ("failed", 6, "SMTP down", "welcome")
    assert got[0].event_id == newer.event_id and got[0].subject == "Welcome to shop"
    assert [n.id for n in notifications_api.list_for_customer(user_id=7, limit=1)] == [newer.pk]


def test_resend_queues_a_failed_one_again(
    notifications_api: NotificationsAPI, django_capture_on_commit_callbacks: Any
) -> None:
    failed = welcome(7, "ada@example.com", status="failed", attempts=6)
    with django_capture_on_commit_callbacks(execute=True, using=services.alias_for_context("notifications")):
        got = notifications_api.resend(notification_id=failed.pk)
    assert got.status == "queued" or got.status == "sent"
    failed.refresh_from_db()
    assert failed.status == "sent"
    assert [m.to for m in mail.outbox] == [["ada@example.com"]]


def test_resend_refuses_what_is_still_queued_and_what_does_not_exist(notifications_api: NotificationsAPI) -> None:
    queued = welcome(7, "ada@example.com")
    with pytest.raises(AlreadySending):
        notifications_api.resend(notification_id=queued.pk)
    with pytest.raises(NotificationNotFound):
        notifications_api.resend(notification_id=987654)
