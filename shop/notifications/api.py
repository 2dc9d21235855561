"""What other contexts and staff may ask of notifications: the ``NotificationsAPI`` Protocol and its
DTO. Standard library and ``shop.kernel`` only. Notifications sits at the top: it listens to every
other context's events and nobody listens to it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import ClassVar, Protocol
from uuid import UUID

from shop.kernel import Conflict, NotFound, idempotent

QUEUED = "queued"
SENT = "sent"
FAILED = "failed"
STATUSES = (QUEUED, SENT, FAILED)


class Kind(StrEnum):
    """Every email the shop sends. Adding one: a member here, its entry in ``services.EMAILS`` (subject
    and sample data) and its two templates (``notifications/<kind>.txt`` and ``.html``)."""

    WELCOME = "welcome"
    PASSWORD_RESET = "password_reset"
    ORDER_CONFIRMATION = "order_confirmation"
    PAYMENT_RECEIPT = "payment_receipt"
    PAYMENT_FAILED = "payment_failed"
    ORDER_SHIPPED = "order_shipped"
    ORDER_CANCELLED = "order_cancelled"
    ORDER_REFUNDED = "order_refunded"
    ORDER_PARTIALLY_REFUNDED = "order_partially_refunded"


KINDS = tuple(Kind)
MAX_LISTED = 100


@dataclass(frozen=True, kw_only=True, slots=True)
class Notification:
    id: int
    event_id: UUID
    kind: Kind
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
