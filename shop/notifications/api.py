"""What other contexts and staff may ask of notifications: the ``NotificationsAPI`` Protocol and its
DTO. Standard library and ``shop.kernel`` only. Notifications sits at the top: it listens to every
other context's events and nobody listens to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar, Protocol
from uuid import UUID

from shop.kernel import Conflict, NotFound, idempotent

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
STATUSES = (QUEUED, SENT, FAILED)

KINDS = (
    "welcome",
    "password_reset",
    "order_confirmation",
    "payment_receipt",
    "payment_failed",
    "order_shipped",
    "order_cancelled",
    "order_refunded",
    "order_partially_refunded",
)
MAX_LISTED = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class Notification:
    id: int
    event_id: UUID
    kind: str
    user_id: int | None
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str
    sent_at: datetime | None
    created_at: datetime


class NotificationNotFound(NotFound):
    resource = "notification"
    title = "No such notification"


class AlreadySending(Conflict):
    code = "notification_queued"
    title = "This notification is already queued for sending"


class NotificationsAPI(Protocol):
    context: ClassVar[str] = "notifications"

    @idempotent
    def list_for_customer(self, *, user_id: int, limit: int = MAX_LISTED) -> list[Notification]:
        """The customer's notifications, newest first (at most ``MAX_LISTED``)."""
        ...

    def resend(self, *, notification_id: int) -> Notification:
        """Send a sent or failed notification again (queued again; the customer gets another copy).
        ``AlreadySending`` if it is still queued."""
        ...
