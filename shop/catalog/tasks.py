"""Periodic housekeeping of the catalog: give expired stock holds back (every minute, CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from shop.catalog.services import inventory

BATCH = 500
MAX_BATCHES = 20  # bounded work per run (time limits); the next run continues


@shared_task(name="shop.catalog.release_expired_reservations", acks_late=True)
def release_expired_reservations() -> int:
    """Release active reservations past their expiry (unpaid checkouts); returns how many were released.

    Safe to run on several workers at once: each reservation is claimed with SKIP LOCKED.
    """
    released = 0
    for _ in range(MAX_BATCHES):
        batch = inventory.expire_reservations(limit=BATCH)
        released += batch
        if batch < BATCH:
            break
    return released
