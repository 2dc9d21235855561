"""Sending email: one durable task per notification (``registry.DurableTask``): an SMTP error is
recorded and the retry sweep sends it again with exponential backoff, ``failed`` after the last
attempt; a sweep re-queues notifications whose task was never queued."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from celery import shared_task
from django.conf import settings

from shop.notifications import services
from shop.registry import Durable, DurableTask


def _give_up(kwargs: Mapping[str, Any], error: str, attempts: int) -> str:
    return services.give_up(notification_id=kwargs["notification_id"])


SENDING = Durable(
    context=lambda kwargs: "notifications",
    key=lambda kwargs: f"notification {kwargs['notification_id']}",
    max_attempts=lambda: max(1, settings.SHOP_EMAIL_MAX_ATTEMPTS),
    backoff_s=lambda attempts: settings.SHOP_EMAIL_RETRY_BACKOFF_S * 2 ** (attempts - 1),
    give_up=_give_up,
)


# Acks late and rejected on worker loss (DurableTask): a worker killed mid-send is redelivered, not lost.
@shared_task(base=DurableTask, durable=SENDING, name="shop.notifications.send_notification")
def send_notification(notification_id: int) -> str:
    return services.send(notification_id=notification_id)


@shared_task(name="shop.notifications.sweep_queued", acks_late=True)
def sweep_queued() -> int:
    return services.sweep_queued()
