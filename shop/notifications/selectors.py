"""Reads of notifications and their DTO."""

from __future__ import annotations

from shop.notifications import api
from shop.notifications.models import Notification


def for_customer(*, user_id: int, limit: int) -> list[Notification]:
    return list(Notification.objects.filter(user_id=user_id).order_by("-created_at", "-id")[:limit])


def to_dto(row: Notification) -> api.Notification:
    return api.Notification(
        id=row.pk,
        event_id=row.event_id,
        kind=api.Kind(row.kind),
        user_id=row.user_id,
        recipient=row.recipient,
        subject=row.subject,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        sent_at=row.sent_at,
        created_at=row.created_at,
    )
