"""Periodic housekeeping of carts: abandoned guest carts go (hourly, CELERY_BEAT_SCHEDULE)."""

from __future__ import annotations

from celery import shared_task

from shop.cart import services

BATCH = 1000
MAX_BATCHES = 50  # bounded work per run; the next run continues


@shared_task(name="shop.cart.delete_expired_guest_carts", acks_late=True)
def delete_expired_guest_carts() -> int:
    """Delete guest carts untouched for ``SHOP_GUEST_CART_TTL_DAYS``; returns how many went.
    (They are invisible from the moment they expire; this only reclaims the rows.)"""
    deleted = 0
    for _ in range(MAX_BATCHES):
        batch = services.delete_expired_guest_carts(limit=BATCH)
        deleted += batch
        if batch < BATCH:
            break
    return deleted
