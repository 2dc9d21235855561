"""Payments' background work: process stored webhook events; settle stuck payments (every five
minutes, CELERY_BEAT_SCHEDULE), which also sweeps webhook events whose processing was never queued."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from shop.payments.services import charges, webhooks


@shared_task(name="shop.payments.process_webhook_event", acks_late=True, max_retries=5, default_retry_delay=10)
def process_webhook_event(webhook_id: int) -> str:
    return webhooks.process(webhook_id=webhook_id)


@shared_task(name="shop.payments.reconcile_stuck_payments", acks_late=True)
def reconcile_stuck_payments() -> int:
    """Ask the gateway about payments pending or awaiting action too long; process missed webhooks."""
    swept = webhooks.process_pending()
    return swept + charges.reconcile(older_than_s=settings.SHOP_PAYMENT_RECONCILE_AFTER_S)
