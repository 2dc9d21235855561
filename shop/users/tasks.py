"""Periodic housekeeping of the users context."""

from __future__ import annotations

from celery import shared_task
from django.core.management import call_command


@shared_task(name="shop.users.flush_expired_tokens", acks_late=True)
def flush_expired_tokens() -> None:
    """Drop expired refresh tokens from the blacklist tables so they do not grow forever (daily)."""
    call_command("flushexpiredtokens")
