"""Periodic housekeeping of orders (every minute, CELERY_BEAT_SCHEDULE, or the embedded scheduler):
unpaid orders past their payment window are cancelled and their stock released (after payments is
asked), and refunds the orders owe are retried until payments confirms them."""

from __future__ import annotations

from celery import shared_task

from shop.orders.services import lifecycle

BATCH = 200
MAX_BATCHES = 10  # bounded work per run; the next run continues


@shared_task(name="shop.orders.cancel_unpaid_orders", acks_late=True)
def cancel_unpaid_orders() -> int:
    cancelled = 0
    for _ in range(MAX_BATCHES):
        batch = lifecycle.cancel_unpaid(limit=BATCH)
        cancelled += batch
        if batch < BATCH:
            break
    return cancelled


@shared_task(name="shop.orders.retry_owed_refunds", acks_late=True)
def retry_owed_refunds() -> int:
    return lifecycle.retry_owed_refunds(limit=BATCH)
