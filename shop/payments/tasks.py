"""Payments' background work: process stored webhook events; settle stuck payments (every five
minutes, CELERY_BEAT_SCHEDULE), which also sweeps webhook events whose processing was never queued;
with the simulated gateway, clear its delayed payments as its provider would."""

from __future__ import annotations

from celery import shared_task
from django.conf import settings

from shop.payments.services import charges, simulation, webhooks


@shared_task(name="shop.payments.process_webhook_event", acks_late=True, max_retries=5, default_retry_delay=10)
def process_webhook_event(webhook_id: int) -> str:
    return webhooks.process(webhook_id=webhook_id)


@shared_task(name="shop.payments.reconcile_stuck_payments", acks_late=True)
def reconcile_stuck_payments() -> int:
    """Ask the gateway about payments pending or awaiting action too long; process missed webhooks."""
    swept = webhooks.process_pending()
    return swept + charges.reconcile(older_than_s=settings.SHOP_PAYMENT_RECONCILE_AFTER_S)


@shared_task(name="shop.payments.settle_simulated_payments", acks_late=True)
def settle_simulated_payments() -> int:
    """The simulated provider clears ``tok_delayed_success`` payments after ``SHOP_SIMULATED_SETTLE_AFTER_S``."""
    return simulation.settle_delayed_payments(older_than_s=settings.SHOP_SIMULATED_SETTLE_AFTER_S)
