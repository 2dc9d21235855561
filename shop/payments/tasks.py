"""Payments' background work: process stored webhook events; settle stuck payments (every five
minutes, CELERY_BEAT_SCHEDULE), which also sweeps webhook events whose processing was never queued;
with the simulated gateway, clear its delayed payments as its provider would."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from celery import shared_task
from django.conf import settings

from shop.payments.services import charges, simulation, webhooks
from shop.registry import Durable, DurableTask

log = logging.getLogger(__name__)


def _leave_to_reconciliation(kwargs: Mapping[str, Any], error: str, attempts: int) -> str:
    """The stored event stays unprocessed (staff see it in the admin); ``reconcile_stuck_payments`` keeps trying."""
    log.error("webhook event still failing after %s attempts: %s", attempts, error[:500])
    return "left to reconciliation"


PROCESSING = Durable(
    context=lambda kwargs: "payments",
    key=lambda kwargs: f"webhook {kwargs['webhook_id']}",
    max_attempts=lambda: settings.SHOP_EVENT_MAX_RETRIES + 1,
    backoff_s=lambda attempts: min(float(settings.SHOP_EVENT_RETRY_BACKOFF_MAX), 10.0 * 2 ** (attempts - 1)),
    give_up=_leave_to_reconciliation,
)


# A failure (the database down, a bug) is recorded and retried by the retry sweep; one that cannot be
# recorded goes back to the broker (DurableTask), instead of being acked and waiting for reconciliation.
@shared_task(base=DurableTask, durable=PROCESSING, name="shop.payments.process_webhook_event")
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
