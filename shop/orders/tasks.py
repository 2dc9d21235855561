"""Periodic housekeeping of orders: unpaid orders past their payment window are cancelled and
their stock released (every minute, CELERY_BEAT_SCHEDULE)."""

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
