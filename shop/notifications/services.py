"""Notifications: each event a customer cares about becomes one rendered email, stored, then sent
by a task, retried on SMTP errors, ``failed`` after the last attempt, resendable by staff.

``queue`` runs in the event handler's transaction (with the bus's inbox row): the notification row
is unique per (event, kind), so a redelivered event adds nothing, and the send task is queued only
after that transaction commits. ``send`` claims the row under a lock and never sends one marked
``sent`` again. Details come from the other contexts' APIs (``UsersAPI``, ``OrdersAPI``), never
from their tables.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar
from uuid import UUID

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from shop import registry
from shop.kernel import Money
from shop.notifications import api, selectors
from shop.notifications.models import Notification
from shop.orders.api import Order, OrdersAPI
from shop.registry.router import alias_for_context
from shop.users.api import UsersAPI
from shop.web.links import absolute_url

log = logging.getLogger(__name__)
# Services enqueue their context's tasks by name: tasks are the entry points above services (they import
# them), so a service naming the task instead of importing it keeps the layers acyclic (import-linter C4).
SEND_TASK = "shop.notifications.send_notification"


@dataclass(frozen=True, kw_only=True, slots=True)
class Email:
    """One kind of email: its subject (``{shop_name}`` and ``{number}`` filled in) and the data its
    templates are previewed and tested with (beside the sample customer and order, ``Samples``)."""

    subject: str
    sample: Mapping[str, Any]


EMAILS: dict[api.Kind, Email] = {
    api.Kind.WELCOME: Email(subject="Welcome to {shop_name}", sample={}),
    api.Kind.PASSWORD_RESET: Email(
        subject="Reset your {shop_name} password",
        sample={"reset_url": "https://shop.example/account/reset-password/sample-link/", "expires_in_minutes": 60},
    ),
    api.Kind.ORDER_CONFIRMATION: Email(subject="Your order {number}", sample={}),
    api.Kind.PAYMENT_RECEIPT: Email(subject="Payment received for order {number}", sample={"amount": "€71.88"}),
    api.Kind.PAYMENT_FAILED: Email(
        subject="Your payment for order {number} did not go through",
        sample={"amount": "€71.88", "reason": "the card was declined"},
    ),
    api.Kind.ORDER_SHIPPED: Email(
        subject="Order {number} has shipped", sample={"carrier": "DHL", "tracking_number": "JD014600006281"}
    ),
    api.Kind.ORDER_CANCELLED: Email(
        subject="Order {number} was cancelled", sample={"reason": "you asked us to", "was_paid": True}
    ),
    api.Kind.ORDER_REFUNDED: Email(subject="Refund for order {number}", sample={"amount": "€71.88"}),
    api.Kind.ORDER_PARTIALLY_REFUNDED: Email(
        subject="Partial refund for order {number}", sample={"amount": "€9.90", "total_refunded": "€9.90"}
    ),
}
_SYMBOLS = {"EUR": "€", "USD": "$", "GBP": "£"}
_REASONS = {
    "card_declined": "the card was declined",
    "insufficient_funds": "the card has insufficient funds",
    "authentication_failed": "the card's security check failed",
    "gateway_unavailable": "the payment provider did not answer",
    "abandoned": "the payment was not completed in time",
}


def money(value: Money) -> str:
    symbol = _SYMBOLS.get(value.currency)
    return f"{symbol}{value.amount}" if symbol else f"{value.amount} {value.currency}"


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%d %b %Y, %H:%M UTC") if moment else ""


def order_context(order: Order, *, url: str) -> dict[str, Any]:
    """What the order templates show; ``url`` is the order's status page (signed, from ``OrdersAPI``)."""
    address = order.shipping_address
    return {
        "number": order.number,
        "lines": [
            {
                "sku": line.sku,
                "name": line.product_name,
                "variant": line.variant_name,
                "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "total": money(line.line_total),
                "discounts": [f"{d.label}: -{money(d.amount)}" for d in line.discounts],
            }
            for line in order.lines
        ],
        "subtotal": money(order.subtotal),
        "discount": money(order.discount) if order.discount.amount > 0 else "",  # shown only when there is one
        "shipping": money(order.shipping),
        "tax": money(order.tax),
        "tax_label": "Of which tax" if order.prices_include_tax else "Tax",  # gross prices include it
        "total": money(order.total),
        "payment_due_by": _when(order.payment_due_by),
        "address": ", ".join(
            part
            for part in (
                address.full_name,
                address.line1,
                address.line2,
                address.postal_code + " " + address.city,
                address.country,
            )
            if part.strip()
        ),
        "url": url,
    }


@dataclass(frozen=True, kw_only=True, slots=True)
class Rendered:
    subject: str
    text: str
    html: str


def render(kind: api.Kind, context: Mapping[str, Any]) -> Rendered:
    """Subject, text and HTML of one kind; every template extends the shared layout."""
    base = {"shop_name": settings.SHOP_NAME, "shop_url": absolute_url("/"), **context}
    number = context.get("order", {}).get("number", "") if isinstance(context.get("order"), Mapping) else ""
    subject = EMAILS[kind].subject.format(shop_name=settings.SHOP_NAME, number=number)
    full = {**base, "subject": subject}
    return Rendered(
        subject=subject,
        text=render_to_string(f"notifications/{kind}.txt", full).strip() + "\n",
        html=render_to_string(f"notifications/{kind}.html", full),
    )


def queue(
    *,
    event_id: UUID,
    kind: api.Kind,
    recipient: str,
    user_id: int | None,
    context: Mapping[str, Any],
    order_id: int | None = None,
) -> Notification | None:
    """Render and store the notification for this event, and send it after commit. ``None`` when
    this event already made this kind (a redelivery): nothing new is sent."""
    if Notification.objects.filter(event_id=event_id, kind=kind).exists():
        return None
    rendered = render(kind, context)
    try:
        with registry.atomic("notifications"):
            notification = Notification.objects.create(
                event_id=event_id,
                kind=kind,
                user_id=user_id,
                order_id=order_id,
                recipient=recipient,
                subject=rendered.subject[:200],
                body_text=rendered.text,
                body_html=rendered.html,
            )
    except IntegrityError:
        return None
    _send_after_commit(notification.pk)
    return notification


def _send_after_commit(notification_id: int) -> None:
    def enqueue() -> None:
        try:
            registry.task(SEND_TASK).delay(notification_id)
        except Exception:  # stored as queued: the sweep sends it
            log.warning("could not queue notification %s; the sweep will", notification_id, exc_info=True)

    transaction.on_commit(enqueue, using=alias_for_context("notifications"))


class SendFailed(Exception):
    """SMTP (or the network to it) failed; the task's retry sweep sends it again."""


def send(*, notification_id: int) -> str:
    """Send one notification unless already sent. Returns "sent" / "already sent"; raises
    ``SendFailed`` after recording the error (the row stays ``queued`` until ``give_up``)."""
    with registry.atomic("notifications"):
        row = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if row is None:
            return "missing"
        if row.status == api.SENT:
            return "already sent"
        row.attempts += 1
        row.save(update_fields=["attempts", "updated_at"])
    message = EmailMultiAlternatives(
        subject=row.subject,
        body=row.body_text,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[row.recipient],
        headers={"Message-ID": row.message_id},
        connection=get_connection(timeout=settings.EMAIL_TIMEOUT),
    )
    message.attach_alternative(row.body_html, "text/html")
    try:
        message.send(fail_silently=False)
    except Exception as exc:  # smtplib.SMTPException, OSError (refused, timeout), …
        error = f"{type(exc).__name__}: {exc}"[:500]
        Notification.objects.filter(pk=notification_id).exclude(status=api.SENT).update(
            last_error=error, updated_at=timezone.now()
        )
        raise SendFailed(error) from exc
    Notification.objects.filter(pk=notification_id).update(
        status=api.SENT, sent_at=timezone.now(), last_error="", updated_at=timezone.now()
    )
    return "sent"


def give_up(*, notification_id: int) -> str:
    """After the last attempt: ``failed``, with its last error, for staff to see and resend."""
    Notification.objects.filter(pk=notification_id, status=api.QUEUED).update(
        status=api.FAILED, updated_at=timezone.now()
    )
    return "failed"


def resend(*, notification_id: int) -> api.Notification:
    with registry.atomic("notifications"):
        row = Notification.objects.select_for_update().filter(pk=notification_id).first()
        if row is None:
            raise api.NotificationNotFound(notification_id=notification_id)
        if row.status == api.QUEUED:
            raise api.AlreadySending(notification_id=notification_id)
        row.status = api.QUEUED
        row.last_error = ""
        row.save(update_fields=["status", "last_error", "updated_at"])
        _send_after_commit(row.pk)
    return selectors.to_dto(row)


def sweep_after_s() -> float:
    """Longer than any retry can be waiting (every backoff step plus a send's timeout), so the sweep
    never queues a second copy of a notification whose retry is merely scheduled."""
    backoff = settings.SHOP_EMAIL_RETRY_BACKOFF_S * (2 ** max(settings.SHOP_EMAIL_MAX_ATTEMPTS, 1))
    return max(300.0, backoff + settings.EMAIL_TIMEOUT * 2)


def sweep_queued(*, older_than_s: float | None = None, limit: int = 200) -> int:
    """Queue again notifications stuck in ``queued`` (their task was never enqueued, or lost)."""
    older_than_s = sweep_after_s() if older_than_s is None else older_than_s

    due = list(
        Notification.objects.filter(status=api.QUEUED, updated_at__lt=timezone.now() - timedelta(seconds=older_than_s))
        .order_by("updated_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in due:
        Notification.objects.filter(pk=pk).update(updated_at=timezone.now())
        registry.task(SEND_TASK).delay(pk)
    return len(due)


# --- from events to notifications -----------------------------------------------------------------------


def _customer(user_id: int) -> tuple[str, str]:
    user = registry.get(UsersAPI).get_user(user_id=user_id)
    return user.email, user.full_name


def notify_about_order(*, event_id: UUID, kind: api.Kind, order_id: int, **extra: Any) -> Notification | None:
    orders = registry.get(OrdersAPI)
    order = orders.get_order(order_id=order_id)
    email, full_name = _customer(order.customer_id)
    url = orders.status_page_url(order_id=order_id)
    context = {"order": order_context(order, url=url), "full_name": full_name, "email": email, **extra}
    return queue(
        event_id=event_id, kind=kind, recipient=email, user_id=order.customer_id, context=context, order_id=order.id
    )


def reason_text(code: str, message: str) -> str:
    return _REASONS.get(code) or message or code.replace("_", " ")


# --- sample data: the admin's previews and the template tests ---------------------------------------------


class Samples:
    """Realistic context for each kind, so every template can be previewed and tested."""

    order: ClassVar[dict[str, Any]] = {
        "number": "SO-7K3Q-9XW2",
        "lines": [
            {
                "sku": "TEE-M",
                "name": "Merino Tee",
                "variant": "M / Navy",
                "quantity": 2,
                "unit_price": "€25.00",
                "total": "€50.00",
            },
            {
                "sku": "SOCK-42",
                "name": "Wool Socks",
                "variant": "",
                "quantity": 1,
                "unit_price": "€9.90",
                "total": "€9.90",
            },
        ],
        "subtotal": "€59.90",
        "shipping": "€0.00",
        "discount": "",
        "tax": "€11.98",
        "tax_label": "Tax",
        "total": "€71.88",
        "payment_due_by": "24 Nov 2026, 12:30 UTC",
        "address": "Ada Lovelace, 12 Analytical Row, W1 2AB London, GB",
        "url": "https://shop.example/orders/status/sample-order-link/",
    }

    @classmethod
    def context(cls, kind: api.Kind) -> dict[str, Any]:
        common: dict[str, Any] = {"full_name": "Ada Lovelace", "email": "ada@example.com", "order": cls.order}
        return {**common, **EMAILS[kind].sample}


class NotificationsService:
    """In-process implementation of ``api.NotificationsAPI``."""

    context: ClassVar[str] = api.NotificationsAPI.context

    def list_for_customer(self, *, user_id: int, limit: int = api.MAX_LISTED) -> list[api.Notification]:
        limit = max(1, min(limit, api.MAX_LISTED))
        return [selectors.to_dto(row) for row in selectors.for_customer(user_id=user_id, limit=limit)]

    def resend(self, *, notification_id: int) -> api.Notification:
        return resend(notification_id=notification_id)
