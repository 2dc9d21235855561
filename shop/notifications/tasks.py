"""Sending email: one task per notification, retried with exponential backoff on SMTP errors,
``failed`` after the last attempt; a sweep re-queues notifications whose task was lost."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from django.conf import settings

from shop.notifications import services


@shared_task(
    bind=True,
    name="shop.notifications.send_notification",
    acks_late=True,
    reject_on_worker_lost=True,  # a worker killed mid-send: the broker redelivers, the email is not lost
    max_retries=None,  # bounded by SHOP_EMAIL_MAX_ATTEMPTS below (a setting, so tests can shrink it)
)
def send_notification(self: Any, notification_id: int) -> str:
    attempts = max(1, settings.SHOP_EMAIL_MAX_ATTEMPTS)
    last = self.request.retries + 1 >= attempts
    try:
        return services.send(notification_id=notification_id, attempt_is_last=last)
    except services.SendFailed as exc:
        if last:
            return "failed"
        countdown = settings.SHOP_EMAIL_RETRY_BACKOFF_S * (2**self.request.retries)
        raise self.retry(exc=exc, countdown=countdown) from exc


@shared_task(name="shop.notifications.sweep_queued", acks_late=True)
def sweep_queued() -> int:
    return services.sweep_queued()
